package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/internal/testenv"
	"github.com/alpha-orion/runbook/plugins/host"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/alpha-orion/runbook/plugins/testplugin"
	"github.com/hashicorp/go-plugin"
)

// binDir holds the real executables the end-to-end tests run: the core,
// every provider and the drill sandbox, built from ./cmd/... by TestMain.
// testPluginDir is a plugin folder with the test plugin pinned in it, the
// third-party way; cli gives it to every run that names no other.
var binDir, testPluginDir string

// TestMain builds the executables once. The test binary also serves a
// plugin under the name "extern" when re-executed with host.PluginArg, for
// TestExternalPluginPinValidateRun.
func TestMain(m *testing.M) {
	if served, err := host.ServeIfPlugin(os.Args[1:], map[string]func() sdk.Plugin{
		"extern": func() sdk.Plugin { return testplugin.Named("extern") },
	}); served {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "runbook-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(tmp)
	binDir, testPluginDir = filepath.Join(tmp, "bin"), filepath.Join(tmp, "plugins")
	if err := testenv.Build(binDir+"/", "./cmd/..."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := testenv.Build(filepath.Join(testPluginDir, host.ExternalPrefix+"test"), "./plugins/testplugin/runbook-plugin-test"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	pin := exec.Command(filepath.Join(binDir, "runbook"), "plugin", "pin", "--plugin-dir", testPluginDir, "test")
	if out, err := pin.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "pin the test plugin: %v\n%s", err, out)
		return 2
	}
	code := m.Run()
	plugin.CleanupClients()
	return code
}

// runbookCmd is the runbook executable run in dir with extra environment;
// unless env names a plugin folder, it is the one with the test plugin.
func runbookCmd(dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(binDir, "runbook"), args...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	if !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "RUNBOOK_PLUGIN_DIR=") }) {
		cmd.Env = append(cmd.Env, "RUNBOOK_PLUGIN_DIR="+testPluginDir)
	}
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// cli runs the runbook executable (the real binary's behaviour: signals,
// exit codes, plugin processes) in dir with extra environment.
func cli(t *testing.T, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := runbookCmd(dir, env, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

func testdata(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs("testdata/runbooks")
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func TestRunPauseResumeStatus(t *testing.T) {
	dir := t.TempDir()
	rbs := testdata(t)
	rec := filepath.Join(dir, "rec.jsonl")
	code, out, errOut := cli(t, dir, nil, "run", "--dir", rbs, "chain", "-p", "record_file="+rec, "-p", "pause=1ms", "--approve", "r1", "--approve", "r2")
	if code != ExitPaused {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitPaused, out, errOut)
	}
	if !strings.Contains(errOut, "--approve r3") || !strings.Contains(errOut, "runbook resume ") {
		t.Errorf("no hint on how to continue:\n%s", errOut)
	}
	runID := strings.Fields(strings.SplitAfter(errOut, "runbook resume ")[1])[0]
	code, out, _ = cli(t, dir, nil, "status")
	if code != 0 || !strings.Contains(out, runID) || !strings.Contains(out, "paused") {
		t.Errorf("status: %d\n%s", code, out)
	}
	code, out, _ = cli(t, dir, nil, "status", runID)
	if code != 0 || !strings.Contains(out, "waiting for confirm of step r3") {
		t.Errorf("status RUN: %d\n%s", code, out)
	}
	code, out, errOut = cli(t, dir, nil, "resume", runID, "--yes", "--as", "carol")
	if code != ExitOK {
		t.Fatalf("resume exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "confirm approved by carol") {
		t.Errorf("resume output lacks the approval:\n%s", out)
	}
	if n := lines(t, rec); n != 6 {
		t.Errorf("record file has %d lines, want 6", n)
	}
	code, out, _ = cli(t, dir, nil, "resume", runID)
	if code != 0 || !strings.Contains(out, "already succeeded") {
		t.Errorf("second resume: %d %s", code, out)
	}
}

func TestRunRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	rbs := testdata(t)
	for _, tc := range []struct {
		args []string
		env  []string
		code int
		msg  string
	}{
		{[]string{"run", "--dir", rbs, "nosuch"}, nil, ExitUsage, `no runbook named "nosuch"`},
		{[]string{"run", "--dir", rbs, "chain"}, nil, ExitUsage, "param record_file is required"},
		{[]string{"run", "--dir", rbs, "chain", "-p", "record_file=x", "-p", "pause=soon"}, nil, ExitUsage, `param pause: "soon" is not a duration`},
		{[]string{"run", "--dir", rbs, "chain", "-p", "record_file=x", "-p", "nope=1"}, nil, ExitUsage, `unknown param "nope"`},
		{[]string{"run", "--dir", rbs, "secret"}, nil, ExitUsage, "secret not set: TOKEN"},
		{[]string{"run", filepath.Join(rbs, "../../../../engine/lint/testdata/err/cycle.yaml")}, nil, ExitFailed, "dependency cycle"},
		{[]string{"run"}, nil, ExitUsage, "run takes one argument"},
		{[]string{"run", "--output", "xml", "x"}, nil, ExitUsage, `unknown --output "xml"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := cli(t, dir, tc.env, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.msg) {
				t.Errorf("exit %d (want %d), stderr lacks %q:\n%s\n%s", code, tc.code, tc.msg, errOut, out)
			}
		})
	}
}

func TestSecretsNeverLeave(t *testing.T) {
	secretsNeverLeave(t, nil, nil)
}

// secretsNeverLeave runs a runbook with a canary secret and looks for it in
// the output, every file the run wrote and the state database (if any).
func secretsNeverLeave(t *testing.T, env []string, stored func() string) {
	const canary = "Canary-Secret-7f3a9"
	dir := t.TempDir()
	code, out, errOut := cli(t, dir, append(env, "RUNBOOK_SECRET_TOKEN="+canary), "run", "--dir", testdata(t), "secret", "--output", "json")
	if code != ExitFailed {
		t.Fatalf("exit %d, want 1 (the last step fails)\n%s\n%s", code, out, errOut)
	}
	for name, s := range map[string]string{"stdout": out, "stderr": errOut} {
		if strings.Contains(s, canary) {
			t.Errorf("%s holds the secret:\n%s", name, s)
		}
	}
	if !strings.Contains(out, "the token is ***") {
		t.Errorf("the masked secret is not in the event stream:\n%s", out)
	}
	var files int
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		files++
		data, _ := os.ReadFile(path)
		if bytes.Contains(data, []byte(canary)) {
			t.Errorf("%s holds the secret", path)
		}
		return nil
	})
	if stored != nil {
		db := stored()
		if strings.Contains(db, canary) {
			t.Error("the state database holds the secret")
		}
		if !strings.Contains(db, "the token is ***") {
			t.Errorf("the state database lacks the masked journal:\n%.2000s", db)
		}
	} else if files == 0 {
		t.Error("the run wrote no journal")
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Errorf("--output json line is not JSON: %q", line)
		}
	}
}

func TestPlanShowsDecisions(t *testing.T) {
	code, out, errOut := cli(t, t.TempDir(), nil, "plan", filepath.Join(testdata(t), "../../../../examples/gated-maintenance.yaml"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"+ gate  approval", "- do-it  manual", "(guard is false: !params.dry_run)", "needs approval: Start the 30m maintenance window?"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
}

func lines(t *testing.T, file string) int {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "\n")
}

// TestCrashAndResume kills the engine with SIGKILL at random moments of a
// run, resumes it, and checks that every side effect happened exactly once.
func TestCrashAndResume(t *testing.T) {
	crashAndResume(t, func(*testing.T) []string { return nil })
}

// crashAndResume is TestCrashAndResume with the state each trial's env names.
func crashAndResume(t *testing.T, stateEnv func(*testing.T) []string) {
	trials := 12
	if testing.Short() {
		trials = 3
	}
	if s := os.Getenv("RUNBOOK_CRASH_TRIALS"); s != "" {
		fmt.Sscan(s, &trials)
	}
	rbs := testdata(t)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("seed %d", seed)
	midRun := 0
	defer func() {
		t.Logf("%d of %d trials killed mid-run", midRun, trials)
		if midRun == 0 && !t.Failed() {
			t.Errorf("none of %d trials was killed mid-run: the test proved nothing (seed %d)", trials, seed)
		}
	}()
	for trial := 0; trial < trials; trial++ {
		dir := t.TempDir()
		env := stateEnv(t)
		rec := filepath.Join(dir, "rec.jsonl")
		cmd := runbookCmd(dir, env, "run", "--dir", rbs, "chain", "-p", "record_file="+rec, "--yes", "--output", "json")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(rng.IntN(400)) * time.Millisecond
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		// Killed only if the signal, not a normal exit, ended it.
		var ee *exec.ExitError
		killed := errors.As(err, &ee) && !ee.Exited()
		waitPluginsGone(t, dir)
		code, out, errOut := cli(t, dir, env, "status")
		if code != 0 {
			t.Fatalf("status: %s", errOut)
		}
		var runID, status string
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 1 && strings.Contains(f[0], "-chain-") && runID == "" {
				runID, status = f[0], f[1] // the table's row, not a damage note below it
			}
		}
		if runID == "" {
			continue // killed before the journal existed: nothing to resume
		}
		if status == "damaged" {
			// Only a journal with no whole record may be unreadable after a
			// kill, and then nothing may have run.
			if data, _ := os.ReadFile(rec); len(data) > 0 || !strings.Contains(out, "journal does not start") {
				t.Fatalf("trial %d (kill after %s): damaged journal:\n%s\nrecords:\n%s", trial, delay, out, data)
			}
			continue
		}
		if killed && status == "running" {
			midRun++ // the journal records no end: the kill landed mid-run
		}
		code, out, errOut = cli(t, dir, env, "resume", runID, "--yes")
		if code != ExitOK {
			t.Fatalf("trial %d (kill after %s): resume exit %d\n%s\n%s", trial, delay, code, out, errOut)
		}
		data, _ := os.ReadFile(rec)
		seen := map[string]int{}
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var r struct{ Step string }
			if json.Unmarshal([]byte(l), &r) == nil {
				seen[r.Step]++
			}
		}
		for _, step := range []string{"r1", "r2", "r3", "r4", "r5", "r6"} {
			if seen[step] != 1 {
				t.Errorf("trial %d (kill after %s): step %s took effect %d times", trial, delay, step, seen[step])
			}
		}
	}
}

// waitPluginsGone waits until no plugin process of this test binary runs
// with the trial's folder as its working directory (orphans exit by themselves).
func waitPluginsGone(t *testing.T, dir string) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		alive := false
		procs, _ := filepath.Glob("/proc/[0-9]*")
		for _, p := range procs {
			cwd, err := os.Readlink(p + "/cwd")
			if err != nil || cwd != dir {
				continue
			}
			if cmdline, _ := os.ReadFile(p + "/cmdline"); bytes.Contains(cmdline, []byte(host.PluginArg)) {
				alive = true
			}
		}
		if !alive {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("plugin processes still running in %s", dir)
}

// TestLockFileDeletedWhileHeld: operators delete lock files they take for
// stale. While a run is in progress, deleting or replacing its lock file
// must not let a second run of the runbook in: it exits 4 naming the first.
func TestLockFileDeletedWhileHeld(t *testing.T) {
	for _, tamper := range []string{"delete", "replace"} {
		t.Run(tamper, func(t *testing.T) {
			rbs := testdata(t)
			dir := t.TempDir()
			rec := filepath.Join(dir, "rec.jsonl")
			done := make(chan int, 1)
			go func() {
				code, _, _ := cli(t, dir, nil, "run", "--dir", rbs, "chain", "-p", "record_file="+rec, "-p", "pause=1s", "--yes", "--as", "alice")
				done <- code
			}()
			for i := 0; i < 200; i++ { // until the first run has started
				if _, out, _ := cli(t, dir, nil, "status"); strings.Contains(out, "running") {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			lock := filepath.Join(dir, ".runbook", "locks", "chain.lock")
			if err := os.Remove(lock); err != nil {
				t.Fatal(err)
			}
			if tamper == "replace" {
				os.WriteFile(lock, []byte(`{"run":"stale"}`), 0o600)
			}
			code, _, errOut := cli(t, dir, nil, "run", "--dir", rbs, "chain", "-p", "record_file="+rec, "--yes", "--as", "bob")
			if code != ExitLocked || !strings.Contains(errOut, "alice") {
				t.Errorf("second run after the lock file was %sd: exit %d, want %d naming alice\n%s", tamper, code, ExitLocked, errOut)
			}
			if code := <-done; code != ExitOK {
				t.Errorf("first run: exit %d", code)
			}
			if n := lines(t, rec); n != 6 {
				t.Errorf("record file has %d lines, want 6 (one run's)", n)
			}
		})
	}
}
