package neon

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/internal/pgserver/pgtest"
	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/neon/neonemu"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// TestRestoreBringsRowsBack is the DR plan's section 3.1 against real
// PostgreSQL: rows are deleted by an incident, restore_branch takes the
// branch back to a moment before it in place, and the same connection URI
// shows the rows again, with the old state kept under the derived name.
func TestRestoreBringsRowsBack(t *testing.T) {
	t.Parallel()
	srv, db := pgtest.NewDatabase(t)
	plugintest.ExecSQL(t, srv.URL(db), "CREATE TABLE users (id int PRIMARY KEY, name text)",
		"INSERT INTO users VALUES (1, 'ada'), (2, 'grace'), (3, 'linus')")
	f := newFixture(t, neonemu.Options{Server: srv}, neonemu.ProjectSpec{Database: db}, nil)
	restorePoint := time.Now().UTC()
	before, err := f.emu.ConnectionURI(f.main.ID)
	if err != nil {
		t.Fatal(err)
	}
	plugintest.ExecSQL(t, before, "DELETE FROM users") // the incident

	in := map[string]any{"branch": "main", "timestamp": restorePoint}
	out := f.Must("restore_branch", in, "run-1/restore")

	uri := out["connection_uri"].(string)
	if uri != before {
		t.Errorf("connection_uri changed across the restore: %s, want %s", uri, before)
	}
	if got := countUsers(t, uri); got != 3 {
		t.Errorf("after the restore the URI shows %d users, want 3", got)
	}
	if got := out["new_endpoint"]; got != false {
		t.Errorf("new_endpoint = %v, want false (a restore keeps the connection string)", got)
	}
	if got, want := out["branch_id"], f.main.ID; got != want {
		t.Errorf("branch_id = %v, want %v", got, want)
	}
	if got, want := out["preserve_under_name"], preserveName("main", "run-1/restore"); got != want {
		t.Errorf("preserve_under_name = %v, want %v", got, want)
	}
	kept, ok := f.emu.BranchByName(f.project.ID, out["preserve_under_name"].(string))
	if !ok || kept.ID != out["preserved_branch_id"] {
		t.Fatalf("preserved branch %v: found %v, id %s", out["preserve_under_name"], ok, kept.ID)
	}
	keptURI, err := f.emu.ConnectionURI(kept.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := countUsers(t, keptURI); got != 0 {
		t.Errorf("the preserved branch has %d users, want 0 (the state before the restore)", got)
	}
	if ts, err := time.Parse(time.RFC3339Nano, out["restore_point"].(string)); err != nil || !ts.Equal(restorePoint) {
		t.Errorf("restore_point = %v, want %v", out["restore_point"], restorePoint)
	}
	if at, _ := out["restored_at"].(time.Time); at.Before(restorePoint) {
		t.Errorf("restored_at = %v, want after the restore point %v", out["restored_at"], restorePoint)
	}
	for _, op := range out["operations"].([]any) {
		if st := op.(map[string]any)["status"]; st != "finished" {
			t.Errorf("operation %v: status %v, want finished", op, st)
		}
	}
}

// TestRestoreIsNotRepeated: a second attempt of the same step (the engine
// lost the first answer) and Reconcile both find the restore done and do
// not restore again; another step's key is a new restore.
func TestRestoreIsNotRepeated(t *testing.T) {
	t.Parallel()
	f := newFixture(t, neonemu.Options{}, neonemu.ProjectSpec{}, nil)
	in := map[string]any{"branch": f.main.ID, "timestamp": time.Now().UTC()}

	rec, err := f.Reconcile("restore_branch", in, "k1")
	if err != nil || rec.State != sdk.NotApplied {
		t.Fatalf("Reconcile before = %v, %v; want not_applied", rec.State, err)
	}
	first := f.Must("restore_branch", in, "k1")
	branches, ops := len(f.emu.Branches(f.project.ID)), len(f.emu.Operations(f.project.ID))

	again := f.Exec("restore_branch", in, "k1")
	if again.Err != nil {
		t.Fatalf("second attempt: %v", again.Err)
	}
	if got, want := again.Out["preserved_branch_id"], first["preserved_branch_id"]; got != want {
		t.Errorf("second attempt: preserved_branch_id %v, want %v", got, want)
	}
	if !strings.Contains(strings.Join(again.Lines, "\n"), "already restored") {
		t.Errorf("second attempt did not say it was already done: %q", again.Lines)
	}
	rec, err = f.Reconcile("restore_branch", in, "k1")
	if err != nil || rec.State != sdk.Applied {
		t.Fatalf("Reconcile after = %v, %v; want applied", rec.State, err)
	}
	for _, k := range []string{"branch_id", "preserved_branch_id", "preserve_under_name", "restore_point"} {
		if rec.Outputs[k] != first[k] {
			t.Errorf("Reconcile output %s = %v, want %v", k, rec.Outputs[k], first[k])
		}
	}
	if rec.Outputs["new_endpoint"] != false {
		t.Errorf("Reconcile new_endpoint = %v, want false (a restore keeps the connection string)", rec.Outputs["new_endpoint"])
	}
	if got, want := len(f.emu.Branches(f.project.ID)), branches; got != want {
		t.Errorf("%d branches after the repeats, want %d: the branch was restored twice", got, want)
	}
	if got, want := len(f.emu.Operations(f.project.ID)), ops; got != want {
		t.Errorf("%d operations after the repeats, want %d", got, want)
	}
	if rec, err := f.Reconcile("restore_branch", in, "k2"); err != nil || rec.State != sdk.NotApplied {
		t.Errorf("Reconcile with another key = %v, %v; want not_applied", rec.State, err)
	}
	// A name taken by a branch that is not this restore's is a conflict.
	taken := f.Exec("restore_branch", map[string]any{"branch": "main", "timestamp": time.Now().UTC(),
		"preserve_under_name": "main"}, "k3")
	plugintest.WantKind(t, taken.Err, sdk.KindConflict, "neon: restore branch", "preserve_under_name")
}

// TestRestoreFromAnotherBranch restores main from the head of another
// branch (no timestamp or LSN), by ID.
func TestRestoreFromAnotherBranch(t *testing.T) {
	t.Parallel()
	f := newFixture(t, neonemu.Options{}, neonemu.ProjectSpec{}, nil)
	backup, err := f.emu.CreateBranch(context.Background(), f.project.ID, "backup", f.main.ID)
	if err != nil {
		t.Fatal(err)
	}
	heads := len(f.emu.Snapshots(backup.ID))
	in := map[string]any{"branch": f.main.ID, "source_branch": "backup", "preserve_under_name": "main_old"}
	out := f.Must("restore_branch", in, "from-backup")
	if out["preserve_under_name"] != "main_old" || out["restore_point"] != "head of branch backup" {
		t.Errorf("outputs = %v; want preserve_under_name main_old, restore_point head of branch backup", out)
	}
	if got := len(f.emu.Snapshots(backup.ID)); got != heads+1 {
		t.Errorf("backup's history has %d points after the restore, want %d (its head, restored from)", got, heads+1)
	}
	if rec, err := f.Reconcile("restore_branch", in, "from-backup"); err != nil || rec.State != sdk.Unknown {
		t.Errorf("Reconcile = %v, %v; want unknown (a name the step gives may be older than the run)", rec.State, err)
	}
}

// lostRestore is a fault that lets the restore take effect and loses its
// answer, as when a gateway times out on a request Neon did handle.
var lostRestore = neonemu.Fault{Method: http.MethodPost, PathContains: "/restore", Status: http.StatusBadGateway, AfterEffect: true}

// TestRestoreAnswerLost: Neon applies the restore but the answer is lost;
// the retry finds the branch that keeps the old state and finishes the
// restore instead of restoring a second time, whether the step names that
// branch or the name is derived from its key.
func TestRestoreAnswerLost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		preserve string
	}{
		{"derived name", ""},
		{"given name", "main_old"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, neonemu.Options{}, neonemu.ProjectSpec{}, nil)
			f.emu.InjectFault(lostRestore)
			branches := len(f.emu.Branches(f.project.ID))
			in := map[string]any{"branch": "main", "timestamp": time.Now().UTC()}
			if tc.preserve != "" {
				in["preserve_under_name"] = tc.preserve
			}
			r := f.Exec("restore_branch", in, "lost")
			if r.Err != nil {
				t.Fatalf("restore: %v\n%s", r.Err, strings.Join(r.Lines, "\n"))
			}
			if got, want := len(f.emu.Branches(f.project.ID)), branches+1; got != want {
				t.Errorf("%d branches, want %d: one kept state, one restore", got, want)
			}
			if got := restorePosts(f.emu); got != 1 {
				t.Errorf("%d restore requests, want 1: the retry must not restore again", got)
			}
			if log := strings.Join(r.Lines, "\n"); !strings.Contains(log, "502") || !strings.Contains(log, "answer was lost") {
				t.Errorf("the log does not tell the story:\n%s", log)
			}
			ops, _ := r.Out["operations"].([]any)
			if len(ops) == 0 {
				t.Errorf("operations = %v, want the restore's, found among the project's", r.Out["operations"])
			}
			for _, op := range ops {
				if st := op.(map[string]any)["status"]; st != "finished" {
					t.Errorf("operation %v: status %v, want finished (waited for)", op, st)
				}
			}
		})
	}
}

// TestReconcileAfterCrash: the restore takes effect, its answer is lost and
// the step gives up (as when the runner dies); Reconcile then finds the
// restore by the derived name and gives its outputs, and running the step
// again does not restore twice. With a name the step gives, Reconcile
// cannot tell the branch from one older than the run and answers unknown.
func TestReconcileAfterCrash(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		preserve string
		want     sdk.State
	}{
		{"derived name", "", sdk.Applied},
		{"given name", "main_old", sdk.Unknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, neonemu.Options{}, neonemu.ProjectSpec{}, nil)
			at := time.Now().UTC()
			in := map[string]any{"branch": "main", "timestamp": at}
			if tc.preserve != "" {
				in["preserve_under_name"] = tc.preserve
			}
			f.emu.InjectFault(lostRestore)
			crashing := f.Manager(map[string]any{"retries": 0})
			_, err := crashing.Execute(context.Background(), Name, sdk.Request{RunID: "run-1", StepID: "restore", Action: "restore_branch",
				Inputs: in, IdempotencyKey: "crash", Attempt: 1}, nil)
			if err == nil {
				t.Fatal("the step with its answer lost and no retries succeeded")
			}
			branches, posts := len(f.emu.Branches(f.project.ID)), restorePosts(f.emu)

			rec, err := f.Reconcile("restore_branch", in, "crash")
			if err != nil || rec.State != tc.want {
				t.Fatalf("Reconcile = %v, %v; want %v", rec.State, err, tc.want)
			}
			if tc.want != sdk.Applied {
				return
			}
			kept, ok := f.emu.BranchByName(f.project.ID, preserveName("main", "crash"))
			if !ok {
				t.Fatal("no branch keeps the state from before the restore")
			}
			want := map[string]any{"branch_id": f.main.ID, "preserved_branch_id": kept.ID, "new_endpoint": false,
				"restore_point": at.Format(time.RFC3339Nano)}
			for k, v := range want {
				if rec.Outputs[k] != v {
					t.Errorf("Reconcile output %s = %v, want %v", k, rec.Outputs[k], v)
				}
			}
			again := f.Exec("restore_branch", in, "crash")
			if again.Err != nil || !strings.Contains(strings.Join(again.Lines, "\n"), "already restored") {
				t.Errorf("running the step again: %v\n%s", again.Err, strings.Join(again.Lines, "\n"))
			}
			if got := len(f.emu.Branches(f.project.ID)); got != branches {
				t.Errorf("%d branches after Reconcile and a rerun, want %d", got, branches)
			}
			if got := restorePosts(f.emu); got != posts {
				t.Errorf("%d restore requests after Reconcile and a rerun, want %d", got, posts)
			}
		})
	}
}

// restorePosts counts the restore requests the emulator received.
func restorePosts(e *neonemu.Emulator) int {
	n := 0
	for _, r := range e.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/restore") {
			n++
		}
	}
	return n
}

// TestRestoreWaitsOutLockedBranch: while the restore of another step still
// runs its operations, Neon answers 423 Locked; the plugin backs off and
// succeeds once they finish.
func TestRestoreWaitsOutLockedBranch(t *testing.T) {
	t.Parallel()
	f := newFixture(t, neonemu.Options{}, neonemu.ProjectSpec{}, nil)
	at := time.Now().UTC()
	first := f.Must("restore_branch", map[string]any{"branch": "main", "timestamp": at, "wait": false}, "first")
	for _, op := range first["operations"].([]any) {
		if st := op.(map[string]any)["status"]; st != "scheduling" {
			t.Fatalf("wait=false: operation status %v, want scheduling", st)
		}
	}
	go func() {
		time.Sleep(40 * time.Millisecond)
		f.emu.FinishOperations()
	}()
	r := f.Exec("restore_branch", map[string]any{"branch": "main", "timestamp": at}, "second")
	if r.Err != nil {
		t.Fatalf("restore while locked: %v", r.Err)
	}
	log := strings.Join(r.Lines, "\n")
	if !strings.Contains(log, "423 Locked") || !strings.Contains(log, "retrying in") {
		t.Errorf("the log does not show the 423 being retried:\n%s", log)
	}
	locked := 0
	for _, req := range f.emu.Requests() {
		if req.Status == http.StatusLocked {
			locked++
		}
	}
	if locked == 0 {
		t.Error("the emulator never answered 423")
	}
}

// TestFaults covers what goes wrong: a storm of 503s (retried, then a
// retryable error), a short one (absorbed), a wrong key, unknown branches,
// bad inputs, a slow API and operations that fail or never finish.
func TestFaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t, neonemu.Options{}, neonemu.ProjectSpec{}, nil)

	t.Run("503 storm", func(t *testing.T) {
		f.emu.InjectFault(neonemu.Fault{Status: http.StatusServiceUnavailable, Times: 100, PathContains: "/branches"})
		defer f.emu.ClearFaults()
		r := f.Exec("get_branch", map[string]any{"branch": "main"}, "")
		plugintest.WantKind(t, r.Err, sdk.KindRetryable, "neon: find branch main", "503", "gave up after 7 attempts")
		if n := strings.Count(strings.Join(r.Lines, "\n"), "retrying in"); n != 6 {
			t.Errorf("%d retry warnings, want 6", n)
		}
	})
	t.Run("short 503 burst", func(t *testing.T) {
		f.emu.InjectFault(neonemu.Fault{Status: http.StatusServiceUnavailable, Times: 2})
		out := f.Must("list_branches", nil, "")
		if out["count"] != 1 {
			t.Errorf("count = %v, want 1", out["count"])
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		wrong := f.Manager(map[string]any{"api_key": "neon-wrong-canary-3b9d"})
		_, err := wrong.Execute(context.Background(), Name, sdk.Request{Action: "get_branch", Inputs: map[string]any{"branch": "main"}}, nil)
		f.NoLeaks(err)
		plugintest.WantKind(t, err, sdk.KindUnauthenticated, "neon: find branch main", "401", "api_key")
	})
	t.Run("unknown branch", func(t *testing.T) {
		for _, tc := range []struct {
			action string
			in     map[string]any
		}{
			{"get_branch", map[string]any{"branch": "nope"}},
			{"get_branch", map[string]any{"branch": "br-no-such-000000"}},
			{"restore_branch", map[string]any{"branch": "nope", "timestamp": time.Now()}},
			{"restore_branch", map[string]any{"branch": "main", "source_branch": "nope"}},
			{"connection_uri", map[string]any{"branch": "nope"}},
			{"wait_operations", map[string]any{"operation_ids": []any{"00000000-0000-4000-8000-000000000000"}}},
		} {
			r := f.Exec(tc.action, tc.in, "")
			plugintest.WantKind(t, r.Err, sdk.KindNotFound, "neon: ")
		}
	})
	t.Run("bad inputs", func(t *testing.T) {
		for _, in := range []map[string]any{
			{"branch": "main"}, // no point in its own history
			{"branch": "main", "timestamp": time.Now(), "lsn": "0/1"},
			{"branch": "main", "lsn": "not-an-lsn"},
			{"branch": "main", "timestamp": time.Now().Add(time.Hour)},
		} {
			r := f.Exec("restore_branch", in, "")
			plugintest.WantKind(t, r.Err, sdk.KindBadInput, "neon")
		}
		r := f.Exec("wait_operations", map[string]any{}, "")
		plugintest.WantKind(t, r.Err, sdk.KindBadInput, "operation_ids or branch")
		r = f.Exec("connection_uri", map[string]any{"role_name": "nobody"}, "")
		plugintest.WantKind(t, r.Err, sdk.KindNotFound, "neon: get connection URI", "role")
	})
	t.Run("slow API", func(t *testing.T) {
		slow := f.Manager(map[string]any{"request_timeout": 30 * time.Millisecond, "retries": 1})
		f.emu.SetLatency(300 * time.Millisecond)
		defer f.emu.SetLatency(0)
		_, err := slow.Execute(context.Background(), Name, sdk.Request{Action: "list_branches"}, nil)
		f.NoLeaks(err)
		plugintest.WantKind(t, err, sdk.KindRetryable, "neon: list branches", "timed out", "gave up after 2 attempts")

		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err = f.Mgr.Execute(ctx, Name, sdk.Request{Action: "list_branches"}, nil)
		if k := sdk.KindOf(err); k != sdk.KindDeadlineExceeded {
			t.Errorf("a call past the step's deadline: kind %s (%v), want deadline_exceeded", k, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("the call took %s after its deadline", d)
		}
	})
	t.Run("failed operation", func(t *testing.T) {
		f.emu.FailNextOperations(1)
		r := f.Exec("restore_branch", map[string]any{"branch": "main", "timestamp": time.Now().UTC()}, "fails")
		plugintest.WantKind(t, r.Err, sdk.KindPermanent, "neon: wait for operations", "create_timeline", "ended failed", "emulated failure")
		f.emu.FinishOperations()
	})
	t.Run("operations never finish", func(t *testing.T) {
		r := f.Exec("restore_branch", map[string]any{"branch": "main", "timestamp": time.Now().UTC(), "wait": false}, "slow-ops")
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		w := f.Exec("wait_operations", map[string]any{"branch": "main", "timeout": time.Millisecond}, "")
		plugintest.WantKind(t, w.Err, sdk.KindDeadlineExceeded, "neon: wait for operations: not finished after 1ms")
		f.emu.FinishOperations()
	})
}

// TestWaitOperations waits for a restore's operations by ID and by branch.
func TestWaitOperations(t *testing.T) {
	t.Parallel()
	f := newFixture(t, neonemu.Options{PollsPerStep: 3}, neonemu.ProjectSpec{}, nil)
	out := f.Must("restore_branch", map[string]any{"branch": "main", "timestamp": time.Now().UTC(), "wait": false}, "r")
	var ids []any
	for _, op := range out["operations"].([]any) {
		ids = append(ids, op.(map[string]any)["id"])
	}
	if len(ids) == 0 {
		t.Fatal("the restore returned no operations")
	}
	w := f.Must("wait_operations", map[string]any{"operation_ids": ids}, "")
	if got, want := w["count"], len(ids); got != want {
		t.Errorf("count = %v, want %v", got, want)
	}
	for _, op := range w["operations"].([]any) {
		if st := op.(map[string]any)["status"]; st != "finished" {
			t.Errorf("operation %v is %v, want finished", op, st)
		}
	}
	byBranch := f.Must("wait_operations", map[string]any{"branch": "main"}, "")
	if byBranch["count"] != 0 {
		t.Errorf("unfinished operations of main after the wait: %v", byBranch["count"])
	}
}

// TestReadActions lists and reads branches and gets connection URIs.
func TestReadActions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, neonemu.Options{}, neonemu.ProjectSpec{}, nil)
	dev, err := f.emu.CreateBranch(context.Background(), f.project.ID, "hotfix-dev", f.main.ID)
	if err != nil {
		t.Fatal(err)
	}
	list := f.Must("list_branches", nil, "")
	if list["count"] != 2 {
		t.Fatalf("count = %v, want 2: %v", list["count"], list["branches"])
	}
	// Search matches names and IDs; IDs are random words, so search for
	// a part of the name no ID word has.
	found := f.Must("list_branches", map[string]any{"search": "hotfi"}, "")
	if bs := found["branches"].([]any); len(bs) != 1 || bs[0].(map[string]any)["id"] != dev.ID {
		t.Errorf("search hotfi = %v, want only hotfix-dev", bs)
	}
	for _, ref := range []string{"hotfix-dev", dev.ID} {
		b := f.Must("get_branch", map[string]any{"branch": ref}, "")
		if b["id"] != dev.ID || b["name"] != "hotfix-dev" || b["parent_id"] != f.main.ID || b["default"] != false {
			t.Errorf("get_branch %s = %v", ref, b)
		}
		if _, ok := b["created_at"].(time.Time); !ok {
			t.Errorf("created_at is a %T, want a timestamp", b["created_at"])
		}
	}
	def := f.Must("connection_uri", nil, "")
	if def["branch_id"] != f.main.ID {
		t.Errorf("connection_uri without a branch: branch_id %v, want the default %v", def["branch_id"], f.main.ID)
	}
	want, _ := f.emu.ConnectionURI(f.main.ID)
	if def["uri"] != want || !strings.Contains(want, def["host"].(string)) {
		t.Errorf("uri = %v, host %v; want %v", def["uri"], def["host"], want)
	}
	pooled := f.Must("connection_uri", map[string]any{"branch": "hotfix-dev", "pooled": true}, "")
	if !strings.Contains(pooled["host"].(string), "-pooler") {
		t.Errorf("pooled host = %v, want a -pooler host", pooled["host"])
	}
}

// TestPlanSaysWhatWouldHappen checks the dry-run summary, and that the
// plan predicts the outputs later steps use from reads alone: the branch
// keeps its ID and connection URI through a restore. When the API cannot be
// read, the plan still has its summary.
func TestPlanSaysWhatWouldHappen(t *testing.T) {
	t.Parallel()
	f := newFixture(t, neonemu.Options{}, neonemu.ProjectSpec{}, nil)
	at := time.Date(2024, 5, 20, 10, 0, 0, 0, time.UTC)
	req := sdk.Request{Action: "restore_branch", IdempotencyKey: "k", Inputs: map[string]any{"branch": "main", "timestamp": at}}
	plan, err := f.Mgr.Plan(context.Background(), Name, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"restore branch main", f.project.ID, "2024-05-20T10:00:00Z", preserveName("main", "k")} {
		if !strings.Contains(plan.Summary, w) {
			t.Errorf("plan %q does not mention %q", plan.Summary, w)
		}
	}
	uri, _ := f.emu.ConnectionURI(f.main.ID)
	want := map[string]any{"branch_id": f.main.ID, "connection_uri": uri, "new_endpoint": false,
		"restore_point": "2024-05-20T10:00:00Z", "preserve_under_name": preserveName("main", "k")}
	for k, v := range want {
		if plan.Outputs[k] != v {
			t.Errorf("predicted %s = %v, want %v", k, plan.Outputs[k], v)
		}
	}
	for _, r := range f.emu.Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("Plan sent %s %s, want reads only", r.Method, r.Path)
		}
	}

	unreadable := f.Manager(map[string]any{"retries": 0})
	f.emu.FailNext(1, http.StatusServiceUnavailable)
	plan, err = unreadable.Plan(context.Background(), Name, req)
	if err != nil || plan.Outputs != nil || !strings.Contains(plan.Summary, "restore branch main") {
		t.Errorf("plan with the API unreadable = %+v, %v; want a summary and no outputs", plan, err)
	}
}

// countUsers counts the rows of the users table at uri.
func countUsers(t *testing.T, uri string) int {
	t.Helper()
	return plugintest.QueryInt(t, uri, "SELECT count(*) FROM users")
}
