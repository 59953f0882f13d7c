package postgres

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/alpha-orion/runbook/plugins/sdk"
)

// toolFinder finds the PostgreSQL client tools (psql, pg_restore).
type toolFinder struct {
	dir string // the plugin's bin_dir setting, if any
}

// find returns the path of the named tool: in bin_dir when set, else in
// `pg_config --bindir`, the newest /usr/lib/postgresql/*/bin, then PATH.
// The newest version comes first because pg_restore reads dumps of its own
// and older versions only.
func (f *toolFinder) find(name string) (string, error) {
	if f.dir != "" {
		p := filepath.Join(f.dir, name)
		if isExecutable(p) {
			return p, nil
		}
		return "", sdk.Permanent(fmt.Errorf("postgres: %s not found in bin_dir %s", name, f.dir))
	}
	for _, d := range candidateDirs() {
		if p := filepath.Join(d, name); isExecutable(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", sdk.Permanent(fmt.Errorf("postgres: %s not found (looked in pg_config --bindir, /usr/lib/postgresql/*/bin and PATH): "+
		"install the PostgreSQL client (Debian: apt-get install postgresql-client) or set the plugin's bin_dir", name))
}

// candidateDirs lists the folders to try before PATH.
func candidateDirs() []string {
	var dirs []string
	if pgConfig, err := exec.LookPath("pg_config"); err == nil {
		if out, err := exec.Command(pgConfig, "--bindir").Output(); err == nil {
			dirs = append(dirs, strings.TrimSpace(string(out)))
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(p string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(p)), 64)
		return v
	}
	sort.Slice(matches, func(i, j int) bool { return version(matches[i]) > version(matches[j]) })
	return append(dirs, matches...)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}
