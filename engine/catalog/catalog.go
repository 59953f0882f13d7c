// Package catalog describes what every plugin action takes and returns.
//
// The catalogue is static data: built-in actions and provider plugins declare
// their actions here (each provider package exports its Plugin spec), so the
// linter can type-check a runbook without starting any plugin process, and the
// plugin host can check a plugin's self-description against it.
package catalog

import (
	"fmt"
	"sort"
)

// Field is one input, output or configuration key of an action or plugin.
type Field struct {
	Name        string `json:"name"`
	Type        Type   `json:"type"`
	Required    bool   `json:"required,omitempty"`
	Secret      bool   `json:"secret,omitempty"`
	Description string `json:"description,omitempty"`
}

// Action declares one thing a plugin can do.
type Action struct {
	// Name is the action's name within its plugin, e.g. "restore_branch".
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Inputs      []Field `json:"inputs,omitempty"`
	Outputs     []Field `json:"outputs,omitempty"`
	// Destructive actions change or remove state that is hard to get back;
	// the linter warns when a step using one has no confirm.
	Destructive bool `json:"destructive,omitempty"`
	// Idempotent actions may be repeated with the same inputs without harm,
	// so the engine may re-run them after a crash without asking.
	Idempotent bool `json:"idempotent,omitempty"`
	// ReadOnly actions only observe: they change nothing outside the run
	// (no provider, database, file under version control or chain). Every
	// other plugin action changes the world, and `runbook drill --sabotage`
	// may turn it into a no-op to prove the drill notices.
	ReadOnly bool `json:"read_only,omitempty"`
}

// Input returns the declared input called name.
func (a *Action) Input(name string) (Field, bool) { return find(a.Inputs, name) }

// Output returns the declared output called name.
func (a *Action) Output(name string) (Field, bool) { return find(a.Outputs, name) }

// Plugin declares a provider plugin: its configuration keys and its actions.
type Plugin struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Config      []Field  `json:"config,omitempty"`
	Actions     []Action `json:"actions"`
}

// ConfigField returns the declared configuration key called name.
func (p *Plugin) ConfigField(name string) (Field, bool) { return find(p.Config, name) }

func find(fs []Field, name string) (Field, bool) {
	for _, f := range fs {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Catalog indexes plugins and actions by the name a step's `uses` gives.
type Catalog struct {
	plugins map[string]*Plugin
	actions map[string]*Action
	owner   map[string]string
}

// New builds a catalogue of the built-in actions plus the given plugins.
// It fails when two plugins share a name or a plugin repeats an action.
func New(plugins ...Plugin) (*Catalog, error) {
	c := &Catalog{plugins: map[string]*Plugin{}, actions: map[string]*Action{}, owner: map[string]string{}}
	for i := range Builtins {
		a := &Builtins[i]
		c.actions[a.Name] = a
	}
	for i := range plugins {
		p := plugins[i]
		if err := c.add(&p); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// MustNew is New for static plugin lists known to be consistent.
func MustNew(plugins ...Plugin) *Catalog {
	c, err := New(plugins...)
	if err != nil {
		panic(err)
	}
	return c
}

func (c *Catalog) add(p *Plugin) error {
	if _, dup := c.plugins[p.Name]; dup {
		return fmt.Errorf("catalog: plugin %q declared twice", p.Name)
	}
	if IsBuiltin(p.Name) {
		return fmt.Errorf("catalog: plugin %q has the name of a built-in action", p.Name)
	}
	c.plugins[p.Name] = p
	for i := range p.Actions {
		a := &p.Actions[i]
		key := p.Name + "." + a.Name
		if _, dup := c.actions[key]; dup {
			return fmt.Errorf("catalog: action %q declared twice", key)
		}
		c.actions[key] = a
		c.owner[key] = p.Name
	}
	return nil
}

// Action looks up the action a step's `uses` names: "plugin.action" or a built-in.
func (c *Catalog) Action(uses string) (*Action, bool) {
	a, ok := c.actions[uses]
	return a, ok
}

// Plugin looks up a plugin by name.
func (c *Catalog) Plugin(name string) (*Plugin, bool) {
	p, ok := c.plugins[name]
	return p, ok
}

// PluginNames returns the names of all plugins, sorted.
func (c *Catalog) PluginNames() []string {
	names := make([]string, 0, len(c.plugins))
	for n := range c.plugins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ActionNames returns every name `uses` accepts, sorted.
func (c *Catalog) ActionNames() []string {
	names := make([]string, 0, len(c.actions))
	for n := range c.actions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
