package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/internal/pgserver/pgtest"
)

// pgState returns the environment that points the CLI at a fresh state
// database, and a function that dumps everything stored in it.
func pgState(t *testing.T) (env []string, dump func() string) {
	t.Helper()
	srv, db := pgtest.NewDatabase(t)
	env = []string{"RUNBOOK_STATE=" + srv.URL(db)}
	dump = func() string {
		ctx := context.Background()
		conn, err := srv.Connect(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var b strings.Builder
		for _, table := range []string{"runs", "events", "locks", "schema_migrations"} {
			rows, err := conn.Query(ctx, `SELECT row_to_json(t)::text FROM runbook.`+table+` t`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var line string
				rows.Scan(&line)
				b.WriteString(line + "\n")
			}
			rows.Close()
		}
		return b.String()
	}
	return env, dump
}

func TestPostgresSecretsNeverLeave(t *testing.T) {
	env, dump := pgState(t)
	secretsNeverLeave(t, env, dump)
}

func TestPostgresCrashAndResume(t *testing.T) {
	crashAndResume(t, func(t *testing.T) []string {
		env, _ := pgState(t)
		return env
	})
}

// TestApproveFromAnotherMachine: a run pauses on a confirm; another process
// with the same state approves it; a third resumes without --approve for it. An
// approval cannot be given twice, nor for a step the run does not wait on.
func TestApproveFromAnotherMachine(t *testing.T) {
	for _, backend := range []string{"folder", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			var env []string
			if backend == "postgres" {
				env, _ = pgState(t)
			} else {
				env = []string{"RUNBOOK_STATE=" + filepath.Join(t.TempDir(), "shared-state")}
			}
			rbs := testdata(t)
			machineA, machineB, machineC := t.TempDir(), t.TempDir(), t.TempDir()
			rec := filepath.Join(machineA, "rec.jsonl")
			code, out, errOut := cli(t, machineA, env, "run", "--dir", rbs, "chain", "-p", "record_file="+rec, "-p", "pause=1ms", "--approve", "r1", "--approve", "r2")
			if code != ExitPaused {
				t.Fatalf("run: exit %d, want %d\n%s\n%s", code, ExitPaused, out, errOut)
			}
			if !strings.Contains(errOut, "runbook approve ") {
				t.Errorf("no hint on approving from elsewhere:\n%s", errOut)
			}
			runID := strings.Fields(strings.SplitAfter(errOut, "runbook resume ")[1])[0]
			if code, _, errOut := cli(t, machineB, env, "approve", runID, "r4", "--as", "dave"); code != ExitUsage || !strings.Contains(errOut, "waits on: r3") {
				t.Errorf("approving a step not asked about: exit %d\n%s", code, errOut)
			}
			code, out, errOut = cli(t, machineB, env, "approve", runID, "r3", "--as", "dave")
			if code != ExitOK || !strings.Contains(out, "approved confirm of step r3") {
				t.Fatalf("approve: exit %d\n%s\n%s", code, out, errOut)
			}
			if code, _, errOut := cli(t, machineB, env, "approve", runID, "r3"); code != ExitUsage || !strings.Contains(errOut, "waits on no approval") {
				t.Errorf("approving twice: exit %d\n%s", code, errOut)
			}
			// r3 goes on dave's approval; r4..r6 have confirms of their own.
			code, out, errOut = cli(t, machineC, env, "resume", runID, "--approve", "r4", "--approve", "r5", "--approve", "r6")
			if code != ExitOK {
				t.Fatalf("resume: exit %d\n%s\n%s", code, out, errOut)
			}
			if strings.Contains(out, "needs confirm: write r3") {
				t.Errorf("resume asked for r3 again:\n%s", out)
			}
			if _, out, _ := cli(t, machineC, env, "status", runID); !strings.Contains(out, ": succeeded") {
				t.Errorf("status after resume:\n%s", out)
			}
			if n := lines(t, rec); n != 6 {
				t.Errorf("record file has %d lines, want 6", n)
			}
		})
	}
}

// TestPostgresLockedAcrossMachines: while one process holds a runbook's lock
// in the state database, a run of it from elsewhere exits 4 naming the holder.
func TestPostgresLockedAcrossMachines(t *testing.T) {
	env, _ := pgState(t)
	rbs := testdata(t)
	dir := t.TempDir()
	done := make(chan int, 1)
	go func() {
		code, _, _ := cli(t, dir, env, "run", "--dir", rbs, "chain", "-p", "record_file="+filepath.Join(dir, "a.jsonl"), "-p", "pause=1s", "--yes", "--as", "alice")
		done <- code
	}()
	for i := 0; i < 100; i++ { // until the first run has started
		if _, out, _ := cli(t, dir, env, "status"); strings.Contains(out, "running") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, _, errOut := cli(t, t.TempDir(), env, "run", "--dir", rbs, "chain", "-p", "record_file="+filepath.Join(dir, "b.jsonl"), "--yes", "--as", "bob")
	if code != ExitLocked || !strings.Contains(errOut, "by alice") {
		t.Errorf("second run: exit %d, want %d naming alice\n%s", code, ExitLocked, errOut)
	}
	if code := <-done; code != ExitOK {
		t.Errorf("first run: exit %d", code)
	}
}
