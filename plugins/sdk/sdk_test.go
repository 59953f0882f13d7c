package sdk_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/alpha-orion/runbook/plugins/testplugin"
	"github.com/hashicorp/go-plugin"
)

// connect serves p in-process over a real gRPC connection and returns the
// host's client for it.
func connect(t testing.TB, p sdk.Plugin) *sdk.Client {
	t.Helper()
	client, _ := plugin.TestPluginGRPCConn(t, false, sdk.VersionedPlugins(p)[sdk.ProtocolVersion])
	t.Cleanup(func() { _ = client.Close() }) // also stops the server
	raw, err := client.Dispense(sdk.PluginKey)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(*sdk.Client)
}

func configured(t testing.TB, config map[string]any) *sdk.Client {
	t.Helper()
	c := connect(t, testplugin.New())
	if err := c.Configure(context.Background(), config); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return c
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	got, err := connect(t, testplugin.New()).Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, testplugin.Spec) {
		t.Fatalf("Describe:\n got %+v\nwant %+v", got, testplugin.Spec)
	}
}

func TestConfigureChecksTypes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name   string
		config map[string]any
		want   string // in the message; "" means success
	}{
		{"ok", map[string]any{"greeting": "hi", "token": "s3cr3t-value"}, ""},
		{"empty", nil, ""},
		{"unknown key", map[string]any{"colour": "red"}, `unknown config "colour"`},
		{"wrong type", map[string]any{"greeting": []any{"x"}}, `config "greeting": want string, got list`},
		{"secret wrong type", map[string]any{"token": map[string]any{"k": "s3cr3t-value"}}, `config "token" (secret): not a valid string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := connect(t, testplugin.New()).Configure(ctx, tt.config)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Configure: %v", err)
				}
				return
			}
			if got, want := sdk.KindOf(err), sdk.KindBadInput; got != want {
				t.Fatalf("kind = %q, want %q (err %v)", got, want, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("error %q shows a secret", err)
			}
		})
	}
}

func TestTypedValuesRoundTrip(t *testing.T) {
	t.Parallel()
	c := configured(t, map[string]any{"greeting": "hello"})
	at := time.Date(2024, 5, 20, 10, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))
	in := map[string]any{
		"value": map[string]any{"deep": []any{1, 2.5, "three", true, nil}},
		"text":  "some text",
		"x":     2.5,
		"flag":  true,
		"at":    at,
		"wait":  90 * time.Minute,
		"list":  []any{1, "two", 3.5},
		"map":   map[string]any{"k": 7, "big": 1 << 60},
		"n":     1<<60 + 1, // beyond float64's exact range: travels as text, typed again on arrival
		"rows":  []map[string]any{{"users": 3}},
	}
	out, err := c.Execute(context.Background(), sdk.Request{Action: "echo", Inputs: in, Attempt: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range in {
		got := out[k]
		switch k {
		case "rows":
			want = []any{map[string]any{"users": 3}}
		case "map":
			// Untyped, so a big int stays the text it travelled as.
			want = map[string]any{"k": 7, "big": "1152921504606846976"}
		}
		if k == "at" {
			if ts, ok := got.(time.Time); !ok || !ts.Equal(at) {
				t.Errorf("at = %#v, want %v", got, at)
			}
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v (%T), want %#v (%T)", k, got, got, want, want)
		}
	}
	if got, want := out["greeting"], "hello"; got != want {
		t.Errorf("greeting = %#v, want %q", got, want)
	}
	if got, want := out["attempt"], 2; got != want {
		t.Errorf("attempt = %#v, want %d", got, want)
	}
}

func TestInputsAreChecked(t *testing.T) {
	t.Parallel()
	c := configured(t, nil)
	tests := []struct {
		name   string
		action string
		inputs map[string]any
		want   string
	}{
		{"unknown action", "nope", nil, `has no action "nope"`},
		{"unknown input", "echo", map[string]any{"colour": 1}, `unknown input "colour"`},
		{"missing required", "sleep", nil, `missing required input "duration"`},
		{"bad int", "echo", map[string]any{"n": "many"}, `input "n": "many" is not an int`},
		{"fraction for int", "echo", map[string]any{"n": 1.5}, `input "n": want int, got number`},
		{"bad duration", "sleep", map[string]any{"duration": "soon"}, `input "duration": "soon" is not a duration`},
		{"secret", "echo", map[string]any{"secret": []any{"hunter22"}}, `input "secret" (secret): not a valid string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Execute(context.Background(), sdk.Request{Action: tt.action, Inputs: tt.inputs}, nil)
			if got, want := sdk.KindOf(err), sdk.KindBadInput; got != want {
				t.Fatalf("kind = %q, want %q (err %v)", got, want, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter22") {
				t.Fatalf("error %q shows a secret", err)
			}
		})
	}
}

func TestErrorKindsCrossTheBoundary(t *testing.T) {
	t.Parallel()
	c := configured(t, nil)
	kinds := []sdk.Kind{
		sdk.KindRetryable, sdk.KindPermanent, sdk.KindBadInput, sdk.KindNotFound, sdk.KindUnauthenticated,
		sdk.KindPermissionDenied, sdk.KindConflict, sdk.KindUnimplemented, sdk.KindUnknown, "a-kind-from-the-future",
	}
	for i, kind := range kinds {
		req := sdk.Request{Action: "fail", IdempotencyKey: string(kind), Inputs: map[string]any{"kind": string(kind), "times": 1, "message": "boom"}}
		_, err := c.Execute(context.Background(), req, nil)
		want := kind
		if i == len(kinds)-1 {
			want = sdk.KindUnknown
		}
		if got := sdk.KindOf(err); got != want {
			t.Errorf("kind %q arrived as %q (err %v)", kind, got, err)
		}
		if err == nil || !strings.Contains(err.Error(), "boom (call 1 of 1 failing)") {
			t.Errorf("kind %q: message %v", kind, err)
		}
		out, err := c.Execute(context.Background(), req, nil)
		if err != nil || out["attempts"] != 2 {
			t.Errorf("kind %q: second call = %v, %v; want success on call 2", kind, out, err)
		}
	}
}

func TestExecuteStreamsLogs(t *testing.T) {
	t.Parallel()
	c := configured(t, map[string]any{"token": "tok-123456"})
	var lines []sdk.LogLine
	out, err := c.Execute(context.Background(), sdk.Request{
		Action: "echo",
		Inputs: map[string]any{"logs": 3, "leak": true, "secret": "pa55word"},
	}, func(l sdk.LogLine) { lines = append(lines, l) })
	if err != nil {
		t.Fatal(err)
	}
	if out == nil {
		t.Fatal("no outputs")
	}
	var msgs []string
	for _, l := range lines {
		msgs = append(msgs, l.Level.String()+": "+l.Message)
		if l.Time.IsZero() {
			t.Errorf("line %q has no time", l.Message)
		}
	}
	want := []string{"info: line 1 of 3", "info: line 2 of 3", "info: line 3 of 3", "warn: token=*** secret=***"}
	if !reflect.DeepEqual(msgs, want) {
		t.Fatalf("log lines:\n got %q\nwant %q", msgs, want)
	}
}

func TestCancellationReachesPlugin(t *testing.T) {
	t.Parallel()
	c := configured(t, nil)
	marker := filepath.Join(t.TempDir(), "cancelled")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Execute(ctx, sdk.Request{Action: "sleep", Inputs: map[string]any{"duration": "1m", "marker": marker}}, nil)
	if got, want := sdk.KindOf(err), sdk.KindCanceled; got != want {
		t.Fatalf("kind = %q, want %q (err %v)", got, want, err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v is not context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancel took %v", d)
	}
	waitForFile(t, marker)
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	c := configured(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Execute(ctx, sdk.Request{Action: "sleep", Inputs: map[string]any{"duration": "1m"}}, nil)
	if got, want := sdk.KindOf(err), sdk.KindDeadlineExceeded; got != want {
		t.Fatalf("kind = %q, want %q (err %v)", got, want, err)
	}
}

func TestPlanAndReconcile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "records.jsonl")
	c := configured(t, map[string]any{"record_file": file})
	ctx := context.Background()

	plan, err := c.Plan(ctx, sdk.Request{Action: "fail"})
	if err != nil || plan.Summary != "would run fail" || plan.Outputs != nil {
		t.Fatalf("Base.Plan = %+v, %v", plan, err)
	}
	plan, err = c.Plan(ctx, sdk.Request{Action: "echo", Inputs: map[string]any{"n": 3, "wait": "2m"}})
	if err != nil || plan.Outputs["n"] != 3 || plan.Outputs["wait"] != 2*time.Minute {
		t.Fatalf("echo Plan = %+v, %v", plan, err)
	}
	rec, err := c.Reconcile(ctx, sdk.Request{Action: "echo", IdempotencyKey: "k"})
	if err != nil || rec.State != sdk.Unknown {
		t.Fatalf("Base.Reconcile = %+v, %v", rec, err)
	}

	req := sdk.Request{Action: "record", StepID: "s", IdempotencyKey: "run-1/s", Attempt: 1, Inputs: map[string]any{"value": "v"}}
	if rec, err := c.Reconcile(ctx, req); err != nil || rec.State != sdk.NotApplied {
		t.Fatalf("Reconcile before = %+v, %v", rec, err)
	}
	out, err := c.Execute(ctx, req, nil)
	if err != nil || out["line"] != 1 {
		t.Fatalf("record = %v, %v", out, err)
	}
	rec, err = c.Reconcile(ctx, req)
	if err != nil || rec.State != sdk.Applied || !reflect.DeepEqual(rec.Outputs, out) {
		t.Fatalf("Reconcile after = %+v, %v; want applied with %v", rec, err, out)
	}
}

// misbehaving is a plugin with bugs the SDK must catch.
type misbehaving struct{ sdk.Base }

func (misbehaving) Spec() catalog.Plugin {
	return catalog.Plugin{Name: "bad", Actions: []catalog.Action{
		{Name: "panic"},
		{Name: "wrong_output", Outputs: []catalog.Field{{Name: "n", Type: catalog.Int}}},
		{Name: "unsendable"},
	}}
}

func (misbehaving) Execute(_ context.Context, req sdk.Request, _ sdk.Logger) (map[string]any, error) {
	switch req.Action {
	case "panic":
		panic("oops")
	case "wrong_output":
		return map[string]any{"n": "not a number"}, nil
	}
	return map[string]any{"ch": make(chan int)}, nil
}

func TestPluginBugsBecomeErrors(t *testing.T) {
	t.Parallel()
	c := connect(t, misbehaving{})
	tests := []struct{ action, want string }{
		{"panic", "plugin bad panicked in Execute: oops"},
		{"wrong_output", `action wrong_output returned bad outputs: output "n": "not a number" is not an int`},
		{"unsendable", "action unsendable returned an output it cannot send: ch: cannot send a chan int"},
	}
	for _, tt := range tests {
		_, err := c.Execute(context.Background(), sdk.Request{Action: tt.action}, nil)
		if got, want := sdk.KindOf(err), sdk.KindPermanent; got != want {
			t.Errorf("%s: kind = %q, want %q (err %v)", tt.action, got, want, err)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v does not say %q", tt.action, err, tt.want)
		}
	}
}

func TestServeRefusesWithoutHost(t *testing.T) {
	t.Setenv(sdk.Handshake.MagicCookieKey, "")
	if err := sdk.Serve(testplugin.New()); !errors.Is(err, sdk.ErrNotStartedByHost) {
		t.Fatalf("Serve = %v, want ErrNotStartedByHost", err)
	}
}

func TestKindOf(t *testing.T) {
	t.Parallel()
	base := errors.New("x")
	tests := []struct {
		err  error
		want sdk.Kind
	}{
		{nil, ""},
		{base, sdk.KindUnknown},
		{sdk.Retryable(base), sdk.KindRetryable},
		{sdk.Permanent(sdk.Retryable(base)), sdk.KindPermanent},
		{sdk.BadInput("n is %d", 3), sdk.KindBadInput},
		{sdk.NotFound("no %s", "branch"), sdk.KindNotFound},
		{sdk.Conflict("busy"), sdk.KindConflict},
		{sdk.Unauthenticated("no key"), sdk.KindUnauthenticated},
		{sdk.Errorf(sdk.KindConflict, "wrapped: %w", sdk.Retryable(base)), sdk.KindConflict},
		{errors.Join(context.Canceled), sdk.KindCanceled},
		{context.DeadlineExceeded, sdk.KindDeadlineExceeded},
	}
	for _, tt := range tests {
		if got := sdk.KindOf(tt.err); got != tt.want {
			t.Errorf("KindOf(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
	if sdk.Retryable(nil) != nil {
		t.Error("Retryable(nil) != nil")
	}
	if err := sdk.Retryable(base); !errors.Is(err, base) || err.Error() != "x" {
		t.Errorf("Retryable(base) = %v, loses base", err)
	}
}

func waitForFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s did not appear: the plugin never saw the cancellation", path)
}
