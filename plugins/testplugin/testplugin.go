// Package testplugin is a plugin for the engine's tests and benchmarks. It
// echoes its inputs, sleeps, fails on demand, crashes its own process, and
// records side effects in a file so a test can count them.
//
// It ships nowhere: tests build it as the third-party executable
// runbook-plugin-test (./runbook-plugin-test) and pin it, or serve it from
// the test binary itself (see host.ServeIfPlugin).
package testplugin

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// Name is the name the plugin is served under.
const Name = "test"

// echoFields are echo's inputs, returned as outputs of the same name and type.
var echoFields = []catalog.Field{
	{Name: "value", Type: catalog.Any},
	{Name: "text", Type: catalog.String},
	{Name: "n", Type: catalog.Int},
	{Name: "x", Type: catalog.Number},
	{Name: "flag", Type: catalog.Bool},
	{Name: "at", Type: catalog.Timestamp},
	{Name: "wait", Type: catalog.Duration},
	{Name: "list", Type: catalog.List},
	{Name: "map", Type: catalog.Map},
	{Name: "rows", Type: catalog.Rows},
}

// Spec is the plugin's catalogue entry.
var Spec = catalog.Plugin{
	Name:        Name,
	Description: "A plugin for tests: echo, sleep, fail, crash and record.",
	Config: []catalog.Field{
		{Name: "record_file", Type: catalog.String, Description: "the file `record` appends to"},
		{Name: "greeting", Type: catalog.String, Description: "echoed back by `echo`"},
		{Name: "token", Type: catalog.String, Secret: true, Description: "a secret, for masking tests"},
	},
	Actions: []catalog.Action{
		{
			Name:        "echo",
			Description: "Return the inputs as outputs.",
			Inputs: append(append([]catalog.Field(nil), echoFields...),
				catalog.Field{Name: "secret", Type: catalog.String, Secret: true},
				catalog.Field{Name: "logs", Type: catalog.Int, Description: "how many log lines to write first"},
				catalog.Field{Name: "leak", Type: catalog.Bool, Description: "log the secrets (the SDK must mask them)"},
			),
			Outputs: append(append([]catalog.Field(nil), echoFields...),
				catalog.Field{Name: "greeting", Type: catalog.String},
				catalog.Field{Name: "attempt", Type: catalog.Int},
				catalog.Field{Name: "pid", Type: catalog.Int},
			),
			Idempotent: true,
		},
		{
			Name:        "sleep",
			Description: "Wait for a duration, or until cancelled.",
			Inputs: []catalog.Field{
				{Name: "duration", Type: catalog.Duration, Required: true},
				{Name: "marker", Type: catalog.String, Description: "a file written when the sleep is cancelled"},
			},
			Outputs:    []catalog.Field{{Name: "slept", Type: catalog.Duration}},
			Idempotent: true,
		},
		{
			Name:        "fail",
			Description: "Fail the first `times` attempts of a step, then succeed.",
			Inputs: []catalog.Field{
				{Name: "times", Type: catalog.Int, Description: "failing attempts per idempotency key (default 1)"},
				{Name: "kind", Type: catalog.String, Description: "the error kind (default retryable)"},
				{Name: "message", Type: catalog.String},
			},
			Outputs:    []catalog.Field{{Name: "attempts", Type: catalog.Int}},
			Idempotent: true,
		},
		{
			Name:        "crash",
			Description: "Kill the plugin process in the middle of the call.",
			Inputs: []catalog.Field{
				{Name: "first_only", Type: catalog.Bool, Description: "crash only on attempt 1"},
				{Name: "after", Type: catalog.Duration, Description: "wait this long first"},
			},
			Outputs:    []catalog.Field{{Name: "survived", Type: catalog.Bool}},
			Idempotent: true, // it changes nothing: running it again is safe
		},
		{
			Name:        "record",
			Description: "Append {step, key, attempt, inputs} to the record file, once per idempotency key.",
			Inputs: []catalog.Field{
				{Name: "value", Type: catalog.Any},
				{Name: "crash_after", Type: catalog.Bool, Description: "on attempt 1, crash after the write, before answering"},
				{Name: "reconcile_unknown", Type: catalog.Bool, Description: "make Reconcile answer that it cannot tell"},
			},
			Outputs: []catalog.Field{
				{Name: "key", Type: catalog.String},
				{Name: "line", Type: catalog.Int, Description: "the record's line number in the file"},
			},
			Destructive: true,
		},
	},
}

// Plugin is the test plugin.
type Plugin struct {
	sdk.Base
	name string

	mu       sync.Mutex
	config   map[string]any
	failures map[string]int // calls to fail, by idempotency key
}

// New returns the test plugin, named "test".
func New() sdk.Plugin { return Named(Name) }

// Named returns the test plugin under another name, so a test can run
// several plugins at once.
func Named(name string) *Plugin {
	return &Plugin{name: name, config: map[string]any{}, failures: map[string]int{}}
}

// Spec returns Spec under the plugin's name.
func (p *Plugin) Spec() catalog.Plugin {
	s := Spec
	s.Name = p.name
	return s
}

// Configure keeps the configuration.
func (p *Plugin) Configure(_ context.Context, config map[string]any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.config = config
	return nil
}

func (p *Plugin) setting(key string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, _ := p.config[key].(string)
	return s
}

// Plan describes record precisely and the rest generically.
func (p *Plugin) Plan(ctx context.Context, req sdk.Request) (sdk.Plan, error) {
	switch req.Action {
	case "record":
		return sdk.Plan{Summary: fmt.Sprintf("would append a record for step %s to %s", req.StepID, p.setting("record_file"))}, nil
	case "echo":
		return sdk.Plan{Summary: "would echo the inputs", Outputs: echo(req.Inputs)}, nil
	}
	return p.Base.Plan(ctx, req)
}

// Execute runs the named action.
func (p *Plugin) Execute(ctx context.Context, req sdk.Request, log sdk.Logger) (map[string]any, error) {
	switch req.Action {
	case "echo":
		return p.echo(req, log)
	case "sleep":
		return sleep(ctx, req, log)
	case "fail":
		return p.fail(req)
	case "crash":
		return crash(req, log)
	case "record":
		return p.record(req)
	}
	return nil, sdk.Errorf(sdk.KindUnimplemented, "no action %q", req.Action)
}

// Reconcile answers for record from the record file; other actions cannot tell.
func (p *Plugin) Reconcile(ctx context.Context, req sdk.Request) (sdk.Reconciliation, error) {
	file := p.setting("record_file")
	if unknown, _ := req.Inputs["reconcile_unknown"].(bool); unknown || req.Action != "record" || file == "" || req.IdempotencyKey == "" {
		return p.Base.Reconcile(ctx, req)
	}
	line, err := findRecord(file, req.IdempotencyKey)
	switch {
	case err != nil:
		return sdk.Reconciliation{}, err
	case line == 0:
		return sdk.Reconciliation{State: sdk.NotApplied}, nil
	}
	return sdk.Reconciliation{State: sdk.Applied, Outputs: map[string]any{"key": req.IdempotencyKey, "line": line}}, nil
}

func echo(in map[string]any) map[string]any {
	out := map[string]any{}
	for _, f := range echoFields {
		if v, ok := in[f.Name]; ok {
			out[f.Name] = v
		}
	}
	return out
}

func (p *Plugin) echo(req sdk.Request, log sdk.Logger) (map[string]any, error) {
	n, _ := req.Inputs["logs"].(int)
	for i := range n {
		log.Printf("line %d of %d", i+1, n)
	}
	if leak, _ := req.Inputs["leak"].(bool); leak {
		log.Warnf("token=%s secret=%v", p.setting("token"), req.Inputs["secret"])
	}
	out := echo(req.Inputs)
	out["greeting"] = p.setting("greeting")
	out["attempt"] = req.Attempt
	out["pid"] = os.Getpid()
	return out, nil
}

func sleep(ctx context.Context, req sdk.Request, log sdk.Logger) (map[string]any, error) {
	d := req.Inputs["duration"].(time.Duration)
	log.Printf("sleeping %s", d)
	start := time.Now()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return map[string]any{"slept": time.Since(start)}, nil
	case <-ctx.Done():
		if marker, _ := req.Inputs["marker"].(string); marker != "" {
			_ = os.WriteFile(marker, []byte(ctx.Err().Error()), 0o644)
		}
		return nil, ctx.Err()
	}
}

func (p *Plugin) fail(req sdk.Request) (map[string]any, error) {
	times := 1
	if n, ok := req.Inputs["times"].(int); ok {
		times = n
	}
	kind := sdk.KindRetryable
	if k, ok := req.Inputs["kind"].(string); ok {
		kind = sdk.Kind(k)
	}
	key := req.IdempotencyKey
	if key == "" {
		key = req.RunID + "/" + req.StepID
	}
	p.mu.Lock()
	p.failures[key]++
	calls := p.failures[key]
	p.mu.Unlock()
	if calls <= times {
		msg, _ := req.Inputs["message"].(string)
		if msg == "" {
			msg = "failing as asked"
		}
		return nil, sdk.Errorf(kind, "%s (call %d of %d failing)", msg, calls, times)
	}
	return map[string]any{"attempts": calls}, nil
}

func crash(req sdk.Request, log sdk.Logger) (map[string]any, error) {
	if first, _ := req.Inputs["first_only"].(bool); first && req.Attempt > 1 {
		return map[string]any{"survived": true}, nil
	}
	log.Printf("crashing")
	if d, ok := req.Inputs["after"].(time.Duration); ok {
		time.Sleep(d)
	}
	os.Exit(2)
	return nil, nil
}

// recordMu serialises writers within the process; records are one write each.
var recordMu sync.Mutex

// record is one line of the record file.
type record struct {
	Step    string         `json:"step"`
	Key     string         `json:"key"`
	Attempt int            `json:"attempt"`
	Inputs  map[string]any `json:"inputs"`
}

func (p *Plugin) record(req sdk.Request) (map[string]any, error) {
	file := p.setting("record_file")
	if file == "" {
		return nil, sdk.BadInput("record needs the plugin's record_file configured")
	}
	b, err := json.Marshal(record{Step: req.StepID, Key: req.IdempotencyKey, Attempt: req.Attempt, Inputs: req.Inputs})
	if err != nil {
		return nil, sdk.Permanent(err)
	}
	line, err := appendLine(file, b)
	if err != nil {
		return nil, sdk.Retryable(fmt.Errorf("record: %w", err))
	}
	if c, _ := req.Inputs["crash_after"].(bool); c && req.Attempt <= 1 {
		os.Exit(2)
	}
	return map[string]any{"key": req.IdempotencyKey, "line": line}, nil
}

// appendLine appends b and a newline to file, syncs it, and returns the
// new line's number.
func appendLine(file string, b []byte) (int, error) {
	recordMu.Lock()
	defer recordMu.Unlock()
	n, err := countLines(file)
	if err != nil {
		return 0, err
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return 0, err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return 0, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return 0, err
	}
	return n + 1, f.Close()
}

func countLines(file string) (int, error) {
	n := 0
	err := scanRecords(file, func(string) bool { n++; return true })
	return n, err
}

// findRecord returns the line number of the record with key, or 0.
func findRecord(file, key string) (int, error) {
	n, found := 0, 0
	err := scanRecords(file, func(line string) bool {
		n++
		var r record
		if json.Unmarshal([]byte(line), &r) == nil && r.Key == key {
			found = n
			return false
		}
		return true
	})
	return found, err
}

// scanRecords calls f for each line of file until f returns false; a
// missing file has no lines.
func scanRecords(file string, f func(string) bool) error {
	fh, err := os.Open(file)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		if !f(sc.Text()) {
			return nil
		}
	}
	return sc.Err()
}
