package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"text/tabwriter"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/host"
	"github.com/alpha-orion/runbook/plugins/providers"
	"github.com/spf13/pflag"
)

// DefaultPluginDir holds third-party plugin binaries (runbook-plugin-NAME)
// and their lock file, unless --plugin-dir or RUNBOOK_PLUGIN_DIR say otherwise.
const DefaultPluginDir = "runbook-plugins"

// LockFileName is the file, in the plugin folder, that pins each external
// plugin by SHA-256 and records its catalogue entry. Commit it: reviewers see
// a plugin change as a change of its digest, and validate needs no plugin
// process to check runbooks that use it.
const LockFileName = "plugins.lock.json"

// pluginLock is the lock file's content.
type pluginLock struct {
	Plugins []lockedPlugin `json:"plugins"`
}

// lockedPlugin pins one external plugin.
type lockedPlugin struct {
	Name   string         `json:"name"`
	SHA256 string         `json:"sha256"`
	Spec   catalog.Plugin `json:"spec"`
}

func (c *Command) pluginDir() string {
	if c.PluginDir != "" {
		return c.PluginDir
	}
	if v := c.Getenv("RUNBOOK_PLUGIN_DIR"); v != "" {
		return v
	}
	return c.inRoot(DefaultPluginDir)
}

// readLock reads the plugin folder's lock file; a missing file is an empty lock.
func readLock(dir string) (*pluginLock, error) {
	data, err := os.ReadFile(filepath.Join(dir, LockFileName))
	if errors.Is(err, os.ErrNotExist) {
		return &pluginLock{}, nil
	}
	if err != nil {
		return nil, err
	}
	var l pluginLock
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, LockFileName), err)
	}
	return &l, nil
}

func writeLock(dir string, l *pluginLock) error {
	sort.Slice(l.Plugins, func(i, j int) bool { return l.Plugins[i].Name < l.Plugins[j].Name })
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, LockFileName), append(data, '\n'), 0o644)
}

// pins returns the lock's SHA-256 per external plugin, for the host.
func (l *pluginLock) pins() map[string]string {
	out := map[string]string{}
	for _, p := range l.Plugins {
		out[p.Name] = p.SHA256
	}
	return out
}

func pluginCmd() *subcommand {
	return &subcommand{
		name:    "plugin",
		summary: "Pin and list third-party plugins",
		usage:   "plugin [flags] pin NAME | list",
		examples: `  cp ./my-plugin runbook-plugins/runbook-plugin-pagerduty
  runbook plugin pin pagerduty       # records its SHA-256 and actions in runbook-plugins/plugins.lock.json
  runbook plugin list`,
		run: runPlugin,
	}
}

func init() {
	flagSets["plugin"] = func(fs *pflag.FlagSet) { fs.String("plugin-dir", "", "") }
}

func runPlugin(c *Command, args []string) int {
	fs := pflag.NewFlagSet("plugin", pflag.ContinueOnError)
	dir := fs.String("plugin-dir", "", "folder of plugin binaries and "+LockFileName+" (default $RUNBOOK_PLUGIN_DIR or "+DefaultPluginDir+")")
	if done, code := c.parse(c.find("plugin"), fs, args); done {
		return code
	}
	if *dir != "" {
		c.PluginDir = *dir
	}
	switch {
	case fs.NArg() == 2 && fs.Arg(0) == "pin":
		return c.pinPlugin(fs.Arg(1))
	case fs.NArg() == 1 && fs.Arg(0) == "list":
		return c.listPlugins(c.Stdout)
	}
	return c.usageError("plugin: want 'plugin pin NAME' or 'plugin list'")
}

// pinPlugin records an external plugin's digest and catalogue entry. It
// starts the plugin once, pinned to the digest it just computed, to ask it
// what it does.
func (c *Command) pinPlugin(name string) int {
	dir := c.pluginDir()
	if slices.Contains(providers.Names(), name) {
		return c.usageError("plugin pin: %q is a provider shipped with runbook; pin third-party plugins only", name)
	}
	path := filepath.Join(dir, host.ExternalPrefix+name)
	sum, err := host.SHA256File(path)
	if err != nil {
		return c.usageError("plugin pin: %v", err)
	}
	m := host.New(host.Options{Dir: dir, Pins: map[string]string{name: sum}})
	defer m.Close()
	spec, err := m.Describe(context.Background(), name)
	if err != nil {
		return c.usageError("plugin pin: %s does not answer as a runbook plugin: %v", path, err)
	}
	if spec.Name != name {
		return c.usageError("plugin pin: %s calls itself %q; name the file %s%s", path, spec.Name, host.ExternalPrefix, spec.Name)
	}
	if _, err := catalog.New(append(providers.Specs(), spec)...); err != nil {
		return c.usageError("plugin pin: %v", err)
	}
	l, err := readLock(dir)
	if err != nil {
		return c.usageError("plugin pin: %v", err)
	}
	kept := l.Plugins[:0]
	for _, p := range l.Plugins {
		if p.Name != name {
			kept = append(kept, p)
		}
	}
	l.Plugins = append(kept, lockedPlugin{Name: name, SHA256: sum, Spec: spec})
	if err := writeLock(dir, l); err != nil {
		return c.usageError("plugin pin: %v", err)
	}
	fmt.Fprintf(c.Stdout, "pinned %s at sha256 %s (%d actions) in %s\n", name, sum, len(spec.Actions), filepath.Join(dir, LockFileName))
	return ExitOK
}

func (c *Command) listPlugins(w io.Writer) int {
	l, err := readLock(c.pluginDir())
	if err != nil {
		return c.usageError("plugin list: %v", err)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PLUGIN\tKIND\tACTIONS\tSHA256 / EXECUTABLE")
	for _, s := range providers.Specs() {
		where, err := host.FindExecutable(host.ExternalPrefix+s.Name, c.binDir(), c.pluginDir())
		if err != nil {
			where = "missing: " + host.ExternalPrefix + s.Name + " (build with `go build -o DIR/ ./cmd/...`)"
		}
		fmt.Fprintf(tw, "%s\tprovider\t%d\t%s\n", s.Name, len(s.Actions), where)
	}
	for _, p := range l.Plugins {
		fmt.Fprintf(tw, "%s\texternal\t%d\t%s\n", p.Name, len(p.Spec.Actions), p.SHA256)
	}
	tw.Flush()
	return ExitOK
}
