package cli

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strings"

	"github.com/alpha-orion/runbook/engine/lint"
	"github.com/alpha-orion/runbook/engine/load"
	"gopkg.in/yaml.v3"
)

// findRunbook resolves NAME|FILE: an existing file, or the runbook in dir whose metadata.name is NAME.
func findRunbook(nameOrFile, dir string) (string, error) {
	if info, err := os.Stat(nameOrFile); err == nil && !info.IsDir() {
		return nameOrFile, nil
	}
	if strings.ContainsAny(nameOrFile, `/\`) || lint.IsRunbookFile(nameOrFile) {
		return "", fmt.Errorf("no such file %s", nameOrFile)
	}
	files, err := lint.Expand([]string{dir})
	if err != nil {
		return "", fmt.Errorf("cannot look for runbook %q: %w", nameOrFile, err)
	}
	var names []string
	for _, f := range files {
		name := metadataName(f)
		if name == nameOrFile {
			return f, nil
		}
		if name != "" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return "", fmt.Errorf("no runbook named %q in %s (have: %s); see 'runbook list %s'", nameOrFile, dir, strings.Join(names, ", "), dir)
}

// metadataName reads only metadata.name of a runbook file.
func metadataName(path string) string {
	data, err := os.ReadFile(path)
	if err != nil || len(data) > load.MaxFileSize {
		return ""
	}
	var doc struct {
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
	}
	if yaml.Unmarshal(data, &doc) != nil {
		return ""
	}
	return doc.Metadata.Name
}

// whoami names the operator: --as, else the OS user.
func whoami(as string) string {
	if as != "" {
		return as
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

// readKV reads a secrets or params file: YAML/JSON mapping, or KEY=VALUE lines.
func readKV(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err == nil && m != nil {
		return m, nil
	}
	m = map[string]any{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want KEY=VALUE", filepath.Base(path), i+1)
		}
		m[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return m, nil
}
