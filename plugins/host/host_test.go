package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/alpha-orion/runbook/plugins/testplugin"
	"github.com/hashicorp/go-plugin"
)

// The test binary serves the test plugin when the Manager re-executes it
// with {PluginArg, NAME}, as the runbook binary serves its built-ins.
var builtins = map[string]func() sdk.Plugin{
	"test": testplugin.New,
	"ext":  func() sdk.Plugin { return testplugin.Named("ext") },
	"a":    func() sdk.Plugin { return testplugin.Named("a") },
	"b":    func() sdk.Plugin { return testplugin.Named("b") },
	"c":    func() sdk.Plugin { return testplugin.Named("c") },
	"d":    func() sdk.Plugin { return testplugin.Named("d") },
}

func TestMain(m *testing.M) {
	if served, err := ServeIfPlugin(os.Args[1:], builtins); served {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	if os.Getenv(hostEnv) != "" {
		os.Exit(runHost())
	}
	code := m.Run()
	plugin.CleanupClients()
	os.Exit(code)
}

// hostEnv makes the test binary act as an engine that starts a plugin,
// prints its pid, and waits to be killed.
const hostEnv = "RUNBOOK_HOST_TEST_ENGINE"

func runHost() int {
	exe, err := os.Executable()
	if err != nil {
		return 1
	}
	m := New(Options{Executable: exe, Builtins: []string{"test"}})
	out, err := m.Execute(context.Background(), "test", sdk.Request{Action: "echo"}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(out["pid"])
	select {}
}

// starts counts plugin processes started, by name.
type starts struct {
	mu   sync.Mutex
	pids map[string][]int
}

func (s *starts) record(name string, pid int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pids == nil {
		s.pids = map[string][]int{}
	}
	s.pids[name] = append(s.pids[name], pid)
}

func (s *starts) of(name string) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.pids[name]...)
}

// newManager returns a Manager that serves the built-ins from the test binary.
func newManager(t testing.TB, opts Options) (*Manager, *starts) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	st := &starts{}
	opts.Executable = exe
	for name := range builtins {
		if name != "ext" {
			opts.Builtins = append(opts.Builtins, name)
		}
	}
	opts.OnStart = st.record
	if opts.CacheDir == "" {
		opts.CacheDir = t.TempDir()
	}
	m := New(opts)
	t.Cleanup(func() { _ = m.Close() })
	return m, st
}

func echo(t testing.TB, m *Manager, inputs map[string]any) map[string]any {
	t.Helper()
	out, err := m.Execute(context.Background(), "test", sdk.Request{Action: "echo", Inputs: inputs, Attempt: 1}, nil)
	if err != nil {
		t.Fatalf("echo: %v", err)
	}
	return out
}

func TestDescribeAndConfigure(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	m, _ := newManager(t, Options{
		Config:  map[string]map[string]any{"test": {"greeting": "hello", "token": "tok-123456"}},
		Catalog: catalog.MustNew(testplugin.Spec),
		Log:     &log,
	})
	spec, err := m.Describe(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(spec, testplugin.Spec) {
		t.Fatalf("Describe:\n got %+v\nwant %+v", spec, testplugin.Spec)
	}
	if got, want := echo(t, m, nil)["greeting"], "hello"; got != want {
		t.Fatalf("greeting = %v, want %q", got, want)
	}
	_ = m.Close()
	if log.Len() > 0 {
		t.Fatalf("a quiet run wrote to the log:\n%s", log.String())
	}
}

func TestBadConfigIsReportedOnce(t *testing.T) {
	t.Parallel()
	m, st := newManager(t, Options{Config: map[string]map[string]any{"test": {"greeting": []any{1}, "token": []any{"tok-123456"}}}})
	for range 2 {
		_, err := m.Execute(context.Background(), "test", sdk.Request{Action: "echo"}, nil)
		if got, want := sdk.KindOf(err), sdk.KindBadInput; got != want {
			t.Fatalf("kind = %q, want %q (err %v)", got, want, err)
		}
		want := `configure plugin test: config "greeting": want string, got list; config "token" (secret): not a valid string`
		if err.Error() != want {
			t.Fatalf("error:\n got %s\nwant %s", err, want)
		}
	}
	if n := len(st.of("test")); n != 1 {
		t.Fatalf("started %d processes for a bad configuration, want 1", n)
	}
}

func TestCatalogMismatchRefused(t *testing.T) {
	t.Parallel()
	want := testplugin.Spec
	want.Actions = append([]catalog.Action(nil), want.Actions...)
	want.Actions[0].Inputs = []catalog.Field{{Name: "n", Type: catalog.String}}
	m, _ := newManager(t, Options{Catalog: catalog.MustNew(want)})
	_, err := m.Describe(context.Background(), "test")
	if got, want := sdk.KindOf(err), sdk.KindPermanent; got != want {
		t.Fatalf("kind = %q, want %q (err %v)", got, want, err)
	}
	if !strings.Contains(fmt.Sprint(err), "action echo: input n is a int, the catalogue says string") {
		t.Fatalf("error %v does not explain the mismatch", err)
	}
}

func TestExecuteStreamsLogs(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t, Options{})
	var got []string
	out, err := m.Execute(context.Background(), "test", sdk.Request{Action: "echo", Inputs: map[string]any{"logs": 5}},
		func(l sdk.LogLine) { got = append(got, l.Message) })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"line 1 of 5", "line 2 of 5", "line 3 of 5", "line 4 of 5", "line 5 of 5"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("lines = %q, want %q", got, want)
	}
	if out["pid"] == os.Getpid() {
		t.Fatal("echo ran in the test process, not a plugin process")
	}
}

func TestTypedValuesRoundTrip(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t, Options{})
	at := time.Date(2024, 5, 20, 10, 0, 0, 5, time.UTC)
	in := map[string]any{
		"n":     7,
		"x":     0.25,
		"flag":  true,
		"at":    at,
		"wait":  36 * time.Hour,
		"list":  []any{1, "two", []any{3.5}},
		"map":   map[string]any{"a": 1, "b": map[string]any{"c": false}},
		"rows":  []map[string]any{{"users": 3}},
		"value": 12,
		"text":  "ünïcode ✓",
	}
	out := echo(t, m, in)
	in["rows"] = []any{map[string]any{"users": 3}}
	for k, want := range in {
		if got := out[k]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v (%T), want %#v (%T)", k, got, got, want, want)
		}
	}
}

func TestErrorKinds(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t, Options{})
	for _, kind := range []sdk.Kind{sdk.KindRetryable, sdk.KindPermanent, sdk.KindBadInput, sdk.KindNotFound,
		sdk.KindUnauthenticated, sdk.KindConflict} {
		req := sdk.Request{Action: "fail", IdempotencyKey: "k-" + string(kind), Inputs: map[string]any{"kind": string(kind), "times": 2}}
		for attempt := 1; attempt <= 3; attempt++ {
			req.Attempt = attempt
			out, err := m.Execute(context.Background(), "test", req, nil)
			if attempt <= 2 {
				if got := sdk.KindOf(err); got != kind {
					t.Errorf("%s attempt %d: kind = %q (err %v)", kind, attempt, got, err)
				}
				continue
			}
			if err != nil || out["attempts"] != 3 {
				t.Errorf("%s attempt 3 = %v, %v; want success", kind, out, err)
			}
		}
	}
}

func TestCancellationReachesPlugin(t *testing.T) {
	t.Parallel()
	m, st := newManager(t, Options{})
	marker := filepath.Join(t.TempDir(), "cancelled")
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Start(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := m.Execute(ctx, "test", sdk.Request{Action: "sleep", Inputs: map[string]any{"duration": "1m", "marker": marker}}, nil)
	if got, want := sdk.KindOf(err), sdk.KindCanceled; got != want {
		t.Fatalf("kind = %q, want %q (err %v)", got, want, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("cancellation took %v", d)
	}
	waitFor(t, "the plugin to see the cancellation", func() bool { _, err := os.Stat(marker); return err == nil })
	if b, _ := os.ReadFile(marker); string(b) != context.Canceled.Error() {
		t.Errorf("plugin saw %q", b)
	}
	echo(t, m, nil) // the process is still good
	if n := len(st.of("test")); n != 1 {
		t.Fatalf("%d processes started, want 1", n)
	}
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t, Options{})
	if err := m.Start(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "cancelled")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := m.Execute(ctx, "test", sdk.Request{Action: "sleep", Inputs: map[string]any{"duration": "1m", "marker": marker}}, nil)
	if got, want := sdk.KindOf(err), sdk.KindDeadlineExceeded; got != want {
		t.Fatalf("kind = %q, want %q (err %v)", got, want, err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v is not context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("deadline took %v", d)
	}
	waitFor(t, "the plugin to see the deadline", func() bool { _, err := os.Stat(marker); return err == nil })
}

func TestCrashRestartsPlugin(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	m, st := newManager(t, Options{Log: &log})
	pid := echo(t, m, nil)["pid"].(int)
	var lines []string
	_, err := m.Execute(context.Background(), "test", sdk.Request{Action: "crash", Inputs: map[string]any{"after": "50ms"}, Attempt: 1},
		func(l sdk.LogLine) { lines = append(lines, l.Message) })
	if got, want := sdk.KindOf(err), sdk.KindCrashed; got != want {
		t.Fatalf("kind = %q, want %q (err %v)", got, want, err)
	}
	if !strings.Contains(err.Error(), "plugin test crashed") {
		t.Errorf("error %q does not name the plugin", err)
	}
	if !reflect.DeepEqual(lines, []string{"crashing"}) {
		t.Errorf("lines before the crash = %q", lines)
	}
	if alive(pid) {
		t.Errorf("crashed process %d is still there", pid)
	}
	pid2 := echo(t, m, nil)["pid"].(int)
	if pid2 == pid {
		t.Fatal("the next call went to the dead process")
	}
	out, err := m.Execute(context.Background(), "test", sdk.Request{Action: "crash", Inputs: map[string]any{"first_only": true}, Attempt: 2}, nil)
	if err != nil || out["survived"] != true {
		t.Fatalf("second attempt = %v, %v", out, err)
	}
	if got := st.of("test"); !reflect.DeepEqual(got, []int{pid, pid2}) {
		t.Fatalf("processes started = %v, want [%d %d]", got, pid, pid2)
	}
	if !strings.Contains(log.String(), "plugin process exited") {
		t.Errorf("the log does not mention the crash:\n%s", log.String())
	}
}

// TestCrashAfterSideEffect is the engine's recovery path: the plugin dies
// after it acted but before it answered; Reconcile tells the engine the step
// took effect, so it is not run twice.
func TestCrashAfterSideEffect(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "records.jsonl")
	m, _ := newManager(t, Options{Config: map[string]map[string]any{"test": {"record_file": file}}})
	ctx := context.Background()
	req := sdk.Request{RunID: "r1", StepID: "restore", Action: "record", IdempotencyKey: "r1/restore", Attempt: 1,
		Inputs: map[string]any{"value": 42, "crash_after": true}}
	if _, err := m.Execute(ctx, "test", req, nil); sdk.KindOf(err) != sdk.KindCrashed {
		t.Fatalf("record with crash_after = %v, want a crash", err)
	}
	req.Attempt = 2
	rec, err := m.Reconcile(ctx, "test", req)
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != sdk.Applied || !reflect.DeepEqual(rec.Outputs, map[string]any{"key": "r1/restore", "line": 1}) {
		t.Fatalf("Reconcile = %+v, want applied at line 1", rec)
	}
	other := req
	other.IdempotencyKey = "r1/other"
	if rec, err := m.Reconcile(ctx, "test", other); err != nil || rec.State != sdk.NotApplied {
		t.Fatalf("Reconcile(other) = %+v, %v; want not applied", rec, err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"step":"restore","key":"r1/restore","attempt":1,"inputs":{"crash_after":true,"value":42}}` + "\n"
	if string(b) != want {
		t.Fatalf("record file:\n got %s\nwant %s", b, want)
	}
}

func TestChecksumMismatchRefusedBeforeStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	marker := filepath.Join(dir, "started")
	path := filepath.Join(dir, ExternalPrefix+"evil")
	if err := os.WriteFile(path, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := SHA256File(path)
	if err != nil {
		t.Fatal(err)
	}
	pin := strings.Repeat("ab", 32)
	m, st := newManager(t, Options{Dir: dir, Pins: map[string]string{"evil": pin}})
	_, err = m.Describe(context.Background(), "evil")
	var ce *ChecksumError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a ChecksumError", err)
	}
	if sdk.KindOf(err) != sdk.KindPermanent {
		t.Errorf("kind = %q", sdk.KindOf(err))
	}
	for _, s := range []string{path, pin, got} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the mismatched file ran")
	}
	if len(st.of("evil")) != 0 {
		t.Fatal("a process started")
	}

	m2, _ := newManager(t, Options{Dir: dir})
	if _, err := m2.Describe(context.Background(), "evil"); err == nil || !strings.Contains(err.Error(), "not pinned (its SHA-256 is "+got+")") {
		t.Fatalf("unpinned plugin: err = %v", err)
	}
}

func TestExternalPluginPinned(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, ExternalPrefix+"ext")
	if err := os.WriteFile(path, []byte("#!/bin/sh\nexec '"+exe+"' "+PluginArg+" ext\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	pin, err := SHA256File(path)
	if err != nil {
		t.Fatal(err)
	}
	m, st := newManager(t, Options{Dir: dir, Pins: map[string]string{"ext": strings.ToUpper(pin)}})
	out, err := m.Execute(context.Background(), "ext", sdk.Request{Action: "echo", Inputs: map[string]any{"n": 1}}, nil)
	if err != nil || out["n"] != 1 {
		t.Fatalf("echo = %v, %v", out, err)
	}
	if len(st.of("ext")) != 1 {
		t.Fatalf("starts = %v", st.of("ext"))
	}
	if _, err := m.Describe(context.Background(), "nope"); sdk.KindOf(err) != sdk.KindNotFound {
		t.Fatalf("unknown plugin: %v", err)
	}
}

func TestStartsLazilyAndOnce(t *testing.T) {
	t.Parallel()
	m, st := newManager(t, Options{})
	if n := len(st.of("test")); n != 0 {
		t.Fatalf("%d processes before any call", n)
	}
	var wg sync.WaitGroup
	pids := make([]any, 16)
	for i := range pids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := m.Execute(context.Background(), "test", sdk.Request{Action: "echo"}, nil)
			if err != nil {
				t.Error(err)
				return
			}
			pids[i] = out["pid"]
		}()
	}
	wg.Wait()
	echo(t, m, nil)
	started := st.of("test")
	if len(started) != 1 {
		t.Fatalf("started %d processes, want 1", len(started))
	}
	for _, pid := range pids {
		if pid != started[0] {
			t.Fatalf("a call ran on pid %v, want %d", pid, started[0])
		}
	}
	if len(st.of("a")) != 0 {
		t.Fatal("an unused plugin started")
	}
}

func TestStartsInParallel(t *testing.T) {
	// Not parallel: it sets launchHook.
	names := []string{"a", "b", "c", "d"}
	arrived := make(chan string, len(names))
	all := make(chan struct{})
	launchHook = func(name string) {
		arrived <- name
		select {
		case <-all:
		case <-time.After(10 * time.Second):
		}
	}
	defer func() { launchHook = nil }()
	go func() {
		for range names {
			<-arrived
		}
		close(all)
	}()
	m, st := newManager(t, Options{})
	start := time.Now()
	if err := m.Start(context.Background(), names...); err != nil {
		t.Fatal(err)
	}
	select {
	case <-all:
	default:
		t.Fatal("the launches did not overlap")
	}
	t.Logf("4 plugins started in %v", time.Since(start))
	for _, name := range names {
		if len(st.of(name)) != 1 {
			t.Errorf("%s started %d times", name, len(st.of(name)))
		}
	}
}

func TestCloseKillsPlugins(t *testing.T) {
	t.Parallel()
	m, st := newManager(t, Options{})
	if err := m.Start(context.Background(), "a", "b"); err != nil {
		t.Fatal(err)
	}
	pids := append(st.of("a"), st.of("b")...)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d survived Close", pid)
		}
	}
	if _, err := m.Describe(context.Background(), "a"); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestServeIfPlugin(t *testing.T) {
	t.Parallel()
	if served, err := ServeIfPlugin([]string{"run", "x"}, builtins); served || err != nil {
		t.Fatalf("ordinary args: served=%v err=%v", served, err)
	}
	if served, err := ServeIfPlugin([]string{PluginArg, "nope"}, builtins); !served || err == nil {
		t.Fatalf("unknown built-in: served=%v err=%v", served, err)
	}
	if served, err := ServeIfPlugin([]string{PluginArg, "test"}, builtins); !served || !errors.Is(err, sdk.ErrNotStartedByHost) {
		t.Fatalf("run by hand: served=%v err=%v", served, err)
	}
}

func TestCheckSpec(t *testing.T) {
	t.Parallel()
	if err := CheckSpec(testplugin.Spec, testplugin.Spec); err != nil {
		t.Fatal(err)
	}
	got := testplugin.Spec
	got.Actions = []catalog.Action{{Name: "echo", Idempotent: true, Inputs: []catalog.Field{{Name: "extra", Type: catalog.Int, Required: true}}}}
	err := CheckSpec(testplugin.Spec, got)
	for _, want := range []string{"action sleep is missing", "action echo: input text is missing", "action echo: input extra is required but not in the catalogue"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckSpec error %v does not say %q", err, want)
		}
	}
}

// running reports whether pid is a live process; a zombie (exited, not
// yet reaped by whoever adopted it) is not.
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// alive reports whether pid is still running after a grace period.
func alive(pid int) bool {
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if !running(pid) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPluginDeadWhileIdleIsReplaced(t *testing.T) {
	t.Parallel()
	m, st := newManager(t, Options{})
	pid := echo(t, m, nil)["pid"].(int)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	s := m.slots["test"]
	m.mu.Unlock()
	waitFor(t, "go-plugin to notice the exit", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.cur.client.Exited()
	})
	if pid2 := echo(t, m, nil)["pid"].(int); pid2 == pid {
		t.Fatal("the call went to the dead process")
	}
	if n := len(st.of("test")); n != 2 {
		t.Fatalf("%d processes started, want 2", n)
	}
}

func TestPluginExitsWithKilledEngine(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	engine := exec.Command(exe)
	engine.Env = append(os.Environ(), hostEnv+"=1")
	stdout, err := engine.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Fscan(stdout, &pid); err != nil {
		_ = engine.Process.Kill()
		t.Fatalf("reading the plugin's pid: %v", err)
	}
	_ = engine.Process.Kill() // no chance to stop its plugins
	_ = engine.Wait()
	killed := time.Now()
	defer func() { t.Logf("plugin exited %v after its engine", time.Since(killed)) }()
	deadline := time.Now().Add(5 * time.Second)
	for running(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("plugin %d outlived its engine", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
