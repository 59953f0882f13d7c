// Package catalogdoc prints the action catalogue for people: as text for a
// terminal, as JSON for tools, and as the Markdown of docs/actions.md. Every
// form comes from the same catalogue the linter checks runbooks against, so
// the reference cannot drift from what validate accepts.
package catalogdoc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/alpha-orion/runbook/engine/catalog"
)

// ErrNotFound is returned by Select when no plugin or action has the name.
var ErrNotFound = errors.New("no such plugin or action")

// Entry is one action with the plugin that provides it ("" for a built-in).
type Entry struct {
	Plugin string          `json:"plugin,omitempty"`
	Uses   string          `json:"uses"`
	Action *catalog.Action `json:"action"`
}

// Group is a plugin (or the built-ins) and the selected actions it provides.
type Group struct {
	Plugin      *catalog.Plugin // nil for the built-in actions
	Name        string
	Description string
	Entries     []Entry
}

// builtinsGroup names the group of built-in actions.
const builtinsGroup = "builtin"

// Select returns the groups a query names: "" for everything, "builtin" or a
// plugin name for one group, "PLUGIN.ACTION" or a built-in's name for one action.
func Select(cat *catalog.Catalog, query string) ([]Group, error) {
	var all []Group
	b := Group{Name: builtinsGroup, Description: "Actions the engine runs itself; no plugin needed."}
	for i := range catalog.Builtins {
		a := &catalog.Builtins[i]
		b.Entries = append(b.Entries, Entry{Uses: a.Name, Action: a})
	}
	all = append(all, b)
	for _, name := range cat.PluginNames() {
		p, _ := cat.Plugin(name)
		g := Group{Plugin: p, Name: p.Name, Description: p.Description}
		for i := range p.Actions {
			a := &p.Actions[i]
			g.Entries = append(g.Entries, Entry{Plugin: p.Name, Uses: p.Name + "." + a.Name, Action: a})
		}
		all = append(all, g)
	}
	if query == "" {
		return all, nil
	}
	for _, g := range all {
		if g.Name == query {
			return []Group{g}, nil
		}
		for _, e := range g.Entries {
			if e.Uses == query {
				g.Entries = []Entry{e}
				return []Group{g}, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrNotFound, query)
}

// Names returns every name Select accepts, for completion and suggestions.
func Names(cat *catalog.Catalog) []string {
	names := append([]string{builtinsGroup}, cat.PluginNames()...)
	return append(names, cat.ActionNames()...)
}

// WriteText prints the groups for a terminal.
func WriteText(w io.Writer, groups []Group) error {
	var b strings.Builder
	for gi, g := range groups {
		if gi > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s: %s\n", g.Name, g.Description)
		if g.Plugin != nil && len(g.Plugin.Config) > 0 {
			b.WriteString("  config:\n")
			writeTextFields(&b, "    ", g.Plugin.Config)
		}
		for _, e := range g.Entries {
			fmt.Fprintf(&b, "\n  %s%s\n    %s\n", e.Uses, traits(e.Action, " (", ")"), e.Action.Description)
			if len(e.Action.Inputs) > 0 {
				b.WriteString("    inputs:\n")
				writeTextFields(&b, "      ", e.Action.Inputs)
			}
			if len(e.Action.Outputs) > 0 {
				b.WriteString("    outputs:\n")
				writeTextFields(&b, "      ", e.Action.Outputs)
			}
			b.WriteString("    example:\n      " + strings.ReplaceAll(strings.TrimSuffix(ExampleStep(e), "\n"), "\n", "\n      ") + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeTextFields(b *strings.Builder, indent string, fs []catalog.Field) {
	nameW, typeW, flagW := 0, 0, 0
	for _, f := range fs {
		nameW, typeW = max(nameW, len(f.Name)), max(typeW, len(f.Type))
		flagW = max(flagW, len(strings.Join(flags(f), ", ")))
	}
	for _, f := range fs {
		line := fmt.Sprintf("%s%-*s  %-*s  %-*s  %s", indent, nameW, f.Name, typeW, f.Type,
			flagW, strings.Join(flags(f), ", "), f.Description)
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
}

// flags lists a field's required and secret marks.
func flags(f catalog.Field) []string {
	var out []string
	if f.Required {
		out = append(out, "required")
	}
	if f.Secret {
		out = append(out, "secret")
	}
	return out
}

// traits lists an action's destructive and idempotent marks, wrapped in open and close.
func traits(a *catalog.Action, open, close string) string {
	var t []string
	if a.Destructive {
		t = append(t, "destructive")
	}
	if a.Idempotent {
		t = append(t, "idempotent")
	}
	if len(t) == 0 {
		return ""
	}
	return open + strings.Join(t, ", ") + close
}

// jsonGroup is the JSON form of a group.
type jsonGroup struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Config      []catalog.Field `json:"config,omitempty"`
	Actions     []jsonAction    `json:"actions"`
}

type jsonAction struct {
	Uses string `json:"uses"`
	catalog.Action
	Example string `json:"example"`
}

// WriteJSON prints the groups as one JSON array, each action with its `uses` name and example step.
func WriteJSON(w io.Writer, groups []Group) error {
	out := make([]jsonGroup, 0, len(groups))
	for _, g := range groups {
		jg := jsonGroup{Name: g.Name, Description: g.Description, Actions: []jsonAction{}}
		if g.Plugin != nil {
			jg.Config = g.Plugin.Config
		}
		for _, e := range g.Entries {
			jg.Actions = append(jg.Actions, jsonAction{Uses: e.Uses, Action: *e.Action, Example: ExampleStep(e)})
		}
		out = append(out, jg)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
