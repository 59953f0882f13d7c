package neonemu_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/plugins/neon/neonemu"
)

func TestAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, neonemu.Options{APIKey: "secret"}, neonemu.ProjectSpec{})
	tests := []struct {
		name string
		key  string
		want int
	}{
		{"no key", "", http.StatusUnauthorized},
		{"wrong key", "nope", http.StatusUnauthorized},
		{"right key", "secret", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := callWithKey(t, "GET", e.base+"/projects", tc.key, nil)
			if status != tc.want {
				t.Fatalf("status = %d, want %d (%v)", status, tc.want, body)
			}
			if status != http.StatusOK {
				wantNeonError(t, body)
			}
		})
	}
}

func TestProjects(t *testing.T) {
	t.Parallel()
	e := newEnv(t, neonemu.Options{}, neonemu.ProjectSpec{ID: "alpha-orion-123456", Name: "alpha-orion"})
	status, body := e.call(t, "GET", "/projects", nil)
	if status != http.StatusOK {
		t.Fatalf("GET /projects = %d %v", status, body)
	}
	projects := list(t, body, "projects")
	if len(projects) != 1 || projects[0]["id"] != "alpha-orion-123456" || projects[0]["name"] != "alpha-orion" {
		t.Errorf("projects = %v", projects)
	}
	obj(t, body, "pagination")

	status, body = e.call(t, "GET", "/projects/alpha-orion-123456", nil)
	if status != http.StatusOK {
		t.Fatalf("GET project = %d %v", status, body)
	}
	p := obj(t, body, "project")
	for _, k := range []string{"id", "name", "region_id", "pg_version", "history_retention_seconds", "created_at"} {
		if _, ok := p[k]; !ok {
			t.Errorf("project lacks %q: %v", k, p)
		}
	}
	status, body = e.call(t, "GET", "/projects/nope", nil)
	if status != http.StatusNotFound {
		t.Fatalf("GET unknown project = %d", status)
	}
	wantNeonError(t, body)
}

func TestGetBranch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, neonemu.Options{}, neonemu.ProjectSpec{})
	status, body := e.call(t, "GET", "/projects/"+e.project.ID+"/branches/"+e.main.ID, nil)
	if status != http.StatusOK {
		t.Fatalf("GET branch = %d %v", status, body)
	}
	b := obj(t, body, "branch")
	checks := map[string]any{"id": e.main.ID, "name": "main", "default": true, "current_state": "ready", "project_id": e.project.ID}
	for k, want := range checks {
		if b[k] != want {
			t.Errorf("branch[%q] = %v, want %v", k, b[k], want)
		}
	}
	if !strings.HasPrefix(e.main.ID, "br-") {
		t.Errorf("branch ID %q lacks the br- prefix", e.main.ID)
	}
	for _, k := range []string{"created_at", "updated_at"} {
		if _, err := time.Parse(time.RFC3339, fmt.Sprint(b[k])); err != nil {
			t.Errorf("branch[%q] = %v: %v", k, b[k], err)
		}
	}
	status, body = e.call(t, "GET", "/projects/"+e.project.ID+"/branches/br-nope-000000", nil)
	if status != http.StatusNotFound {
		t.Fatalf("GET unknown branch = %d", status)
	}
	wantNeonError(t, body)
}

func TestListBranches(t *testing.T) {
	t.Parallel()
	e := newEnv(t, neonemu.Options{}, neonemu.ProjectSpec{})
	ctx := context.Background()
	for _, name := range []string{"dev-a", "dev-b", "staging"} {
		if _, err := e.emu.CreateBranch(ctx, e.project.ID, name, e.main.ID); err != nil {
			t.Fatal(err)
		}
	}
	path := "/projects/" + e.project.ID + "/branches"
	tests := []struct {
		name   string
		query  string
		status int
		want   []string // names, in order; nil means do not check
	}{
		{"all by name", "sort_by=name&sort_order=asc", 200, []string{"dev-a", "dev-b", "main", "staging"}},
		{"name descending", "sort_by=name&sort_order=desc", 200, []string{"staging", "main", "dev-b", "dev-a"}},
		{"search", "search=DEV&sort_by=name&sort_order=asc", 200, []string{"dev-a", "dev-b"}},
		{"search by id", "search=" + e.main.ID, 200, []string{"main"}},
		{"limit", "sort_by=name&sort_order=asc&limit=2", 200, []string{"dev-a", "dev-b"}},
		{"limit zero", "limit=0", 400, nil},
		{"limit not a number", "limit=x", 400, nil},
		{"bad sort_by", "sort_by=size", 400, nil},
		{"bad cursor", "cursor=%25%25", 400, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.call(t, "GET", path+"?"+tc.query, nil)
			if status != tc.status {
				t.Fatalf("status = %d, want %d (%v)", status, tc.status, body)
			}
			if status != 200 {
				wantNeonError(t, body)
				return
			}
			obj(t, body, "pagination")
			if got := names(list(t, body, "branches")); tc.want != nil && strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("branches = %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("pages", func(t *testing.T) {
		var got []string
		query := "sort_by=name&sort_order=asc&limit=3"
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			status, body := e.call(t, "GET", path+"?"+query, nil)
			if status != 200 {
				t.Fatalf("status %d", status)
			}
			got = append(got, names(list(t, body, "branches"))...)
			next, _ := obj(t, body, "pagination")["next"].(string)
			if next == "" {
				break
			}
			query = "sort_by=name&sort_order=asc&limit=3&cursor=" + url.QueryEscape(next)
		}
		if want := "dev-a,dev-b,main,staging"; strings.Join(got, ",") != want {
			t.Errorf("paged branches = %v, want %s", got, want)
		}
	})
}

func names(bs []map[string]any) []string {
	var out []string
	for _, b := range bs {
		out = append(out, fmt.Sprint(b["name"]))
	}
	return out
}

func TestRestoreValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, neonemu.Options{HistoryRetention: time.Hour}, neonemu.ProjectSpec{})
	ctx := context.Background()
	before := time.Now().UTC()
	snap, err := e.emu.Snapshot(ctx, e.main.ID)
	if err != nil {
		t.Fatal(err)
	}
	child, err := e.emu.CreateBranch(ctx, e.project.ID, "child", e.main.ID)
	if err != nil {
		t.Fatal(err)
	}
	ts := func(tm time.Time) string { return tm.Format(time.RFC3339Nano) }
	now := ts(time.Now())
	path := func(branch string) string {
		return "/projects/" + e.project.ID + "/branches/" + branch + "/restore"
	}
	tests := []struct {
		name   string
		branch string
		body   any
		status int
		msg    string // part of the message
	}{
		{"not JSON", e.main.ID, "nope", 400, "invalid request body"},
		{"no source", e.main.ID, map[string]any{"source_timestamp": now}, 400, "source_branch_id is required"},
		{"unknown source", e.main.ID, map[string]any{"source_branch_id": "br-x-000000"}, 400, "not found"},
		{"unknown branch", "br-x-000000", map[string]any{"source_branch_id": e.main.ID}, 404, "not found"},
		{"self without point", e.main.ID, map[string]any{"source_branch_id": e.main.ID, "preserve_under_name": "old"}, 400, "source_timestamp or source_lsn is required"},
		{"self without preserve", e.main.ID, map[string]any{"source_branch_id": e.main.ID, "source_timestamp": now}, 400, "preserve_under_name is required"},
		{"children without preserve", e.main.ID, map[string]any{"source_branch_id": child.ID}, 400, "preserve_under_name is required"},
		{"timestamp and lsn", e.main.ID, map[string]any{"source_branch_id": e.main.ID, "source_timestamp": now, "source_lsn": "0/1", "preserve_under_name": "old"}, 400, "only one of"},
		{"bad timestamp", e.main.ID, map[string]any{"source_branch_id": e.main.ID, "source_timestamp": "yesterday", "preserve_under_name": "old"}, 400, "RFC 3339"},
		{"future", e.main.ID, map[string]any{"source_branch_id": e.main.ID, "source_timestamp": ts(time.Now().Add(time.Hour)), "preserve_under_name": "old"}, 400, "in the future"},
		{"past retention", e.main.ID, map[string]any{"source_branch_id": e.main.ID, "source_timestamp": ts(time.Now().Add(-2 * time.Hour)), "preserve_under_name": "old"}, 400, "outside the retained history"},
		{"before first snapshot", e.main.ID, map[string]any{"source_branch_id": e.main.ID, "source_timestamp": ts(before.Add(-time.Second)), "preserve_under_name": "old"}, 400, "outside the retained history"},
		{"bad lsn", e.main.ID, map[string]any{"source_branch_id": e.main.ID, "source_lsn": "zz", "preserve_under_name": "old"}, 400, "not a valid LSN"},
		{"lsn before history", e.main.ID, map[string]any{"source_branch_id": e.main.ID, "source_lsn": "0/0", "preserve_under_name": "old"}, 400, "outside the retained history"},
		{"preserve name taken", e.main.ID, map[string]any{"source_branch_id": e.main.ID, "source_lsn": snap.LSN, "preserve_under_name": "child"}, 409, "already exists"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.call(t, "POST", path(tc.branch), tc.body)
			if status != tc.status {
				t.Fatalf("status = %d, want %d (%v)", status, tc.status, body)
			}
			wantNeonError(t, body)
			if msg := fmt.Sprint(body["message"]); !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q does not contain %q", msg, tc.msg)
			}
		})
	}
	if ops := e.emu.Operations(e.project.ID); len(ops) != 0 {
		t.Errorf("rejected restores created operations: %v", ops)
	}
}

func TestRestoreOperationsProgress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		polls      int
		failOps    int
		slow       int      // SlowNextOperation's extra polls
		wantStatus []string // statuses seen on successive polls of the first operation
	}{
		{"one poll a step", 1, 0, 0, []string{"running", "finished", "finished"}},
		{"two polls a step", 2, 0, 0, []string{"scheduling", "running", "running", "finished"}},
		{"failing operation", 1, 2, 0, []string{"running", "failed", "failed"}},
		{"slow operation", 1, 0, 2, []string{"running", "running", "running", "finished"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, neonemu.Options{PollsPerStep: tc.polls}, neonemu.ProjectSpec{})
			e.emu.FailNextOperations(tc.failOps)
			e.emu.SlowNextOperation(tc.slow)
			if _, err := e.emu.Snapshot(context.Background(), e.main.ID); err != nil {
				t.Fatal(err)
			}
			restore := map[string]any{"source_branch_id": e.main.ID, "source_timestamp": time.Now().Format(time.RFC3339Nano),
				"preserve_under_name": "main_old"}
			path := "/projects/" + e.project.ID + "/branches/" + e.main.ID + "/restore"
			status, body := e.call(t, "POST", path, restore)
			if status != http.StatusOK {
				t.Fatalf("restore = %d %v", status, body)
			}
			if b := obj(t, body, "branch"); b["id"] != e.main.ID || b["current_state"] != "resetting" {
				t.Errorf("restored branch = %v", b)
			}
			ops := list(t, body, "operations")
			if len(ops) == 0 {
				t.Fatal("restore returned no operations")
			}
			for _, op := range ops {
				if op["status"] != "scheduling" || op["branch_id"] != e.main.ID || op["action"] == "" || op["id"] == "" {
					t.Errorf("new operation = %v", op)
				}
			}

			// While an operation runs, another restore is refused with 423.
			restore["preserve_under_name"] = "main_old_2"
			status, body = e.call(t, "POST", path, restore)
			if status != http.StatusLocked {
				t.Fatalf("second restore while running = %d, want 423", status)
			}
			wantNeonError(t, body)

			opPath := "/projects/" + e.project.ID + "/operations/" + fmt.Sprint(ops[0]["id"])
			var seen []string
			for range tc.wantStatus {
				status, body := e.call(t, "GET", opPath, nil)
				if status != http.StatusOK {
					t.Fatalf("GET operation = %d %v", status, body)
				}
				op := obj(t, body, "operation")
				for _, k := range []string{"id", "branch_id", "action", "status", "created_at", "updated_at"} {
					if _, ok := op[k]; !ok {
						t.Errorf("operation lacks %q: %v", k, op)
					}
				}
				seen = append(seen, fmt.Sprint(op["status"]))
				if op["status"] == "failed" && op["error"] == nil {
					t.Errorf("failed operation without error: %v", op)
				}
			}
			if strings.Join(seen, ",") != strings.Join(tc.wantStatus, ",") {
				t.Errorf("statuses = %v, want %v", seen, tc.wantStatus)
			}
			e.emu.FinishOperations()
			if b, _ := e.emu.Branch(e.main.ID); b.CurrentState != "ready" {
				t.Errorf("branch state after operations = %q, want ready", b.CurrentState)
			}
			if status, _ := e.call(t, "POST", path, restore); status != http.StatusOK {
				t.Errorf("restore after operations finished = %d, want 200", status)
			}
		})
	}
	t.Run("unknown operation", func(t *testing.T) {
		e := newEnv(t, neonemu.Options{}, neonemu.ProjectSpec{})
		status, body := e.call(t, "GET", "/projects/"+e.project.ID+"/operations/nope", nil)
		if status != http.StatusNotFound {
			t.Fatalf("status = %d", status)
		}
		wantNeonError(t, body)
	})
}

// TestRestoreBranchTree: how a restore to a branch's own history rearranges
// the branches, as Neon documents it: a root branch and its backup are both
// roots; a non-root branch gets its backup as parent; children move to the
// backup; the restored branch keeps its ID, name and default flag; the
// snapshot-only fields stay empty.
func TestRestoreBranchTree(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		target     string                                                // "main" (root) or "dev" (main's child)
		wantParent func(main, dev, kept neonemu.Branch) (string, string) // the parents of the target and of the preserved branch
	}{
		{"root", "main", func(main, dev, kept neonemu.Branch) (string, string) { return "", "" }},
		{"child", "dev", func(main, dev, kept neonemu.Branch) (string, string) { return kept.ID, main.ID }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, neonemu.Options{}, neonemu.ProjectSpec{})
			ctx := context.Background()
			dev, err := e.emu.CreateBranch(ctx, e.project.ID, "dev", e.main.ID)
			if err != nil {
				t.Fatal(err)
			}
			grandchild, err := e.emu.CreateBranch(ctx, e.project.ID, "dev-child", dev.ID)
			if err != nil {
				t.Fatal(err)
			}
			target := map[string]neonemu.Branch{"main": e.main, "dev": dev}[tc.target]
			snap, err := e.emu.Snapshot(ctx, target.ID)
			if err != nil {
				t.Fatal(err)
			}
			status, body := e.call(t, "POST", "/projects/"+e.project.ID+"/branches/"+target.ID+"/restore",
				map[string]any{"source_branch_id": target.ID, "source_lsn": snap.LSN, "preserve_under_name": "old"})
			if status != http.StatusOK {
				t.Fatalf("restore = %d %v", status, body)
			}
			if b := obj(t, body, "branch"); b["id"] != target.ID || b["name"] != target.Name || b["last_reset_at"] == nil {
				t.Errorf("the answer's branch = %v; want %s (%s) with last_reset_at", b, target.ID, target.Name)
			}
			for _, k := range []string{"restore_status", "restored_from", "restored_as", "parent_timestamp"} {
				if v, ok := obj(t, body, "branch")[k]; ok {
					t.Errorf("the answer's branch has %s = %v; Neon documents it for snapshot restores only, or as possibly empty", k, v)
				}
			}
			kept, ok := e.emu.BranchByName(e.project.ID, "old")
			if !ok {
				t.Fatal("no preserved branch named old")
			}
			main, _ := e.emu.Branch(e.main.ID)
			dev, _ = e.emu.Branch(dev.ID)
			restored, _ := e.emu.Branch(target.ID)
			wantTarget, wantKept := tc.wantParent(main, dev, kept)
			movedChild := map[string]string{"main": dev.ID, "dev": grandchild.ID}[tc.target]
			moved, _ := e.emu.Branch(movedChild)
			checks := []struct{ what, got, want string }{
				{"restored branch's parent", restored.ParentID, wantTarget},
				{"preserved branch's parent", kept.ParentID, wantKept},
				{"the child's parent (moved to the preserved branch)", moved.ParentID, kept.ID},
				{"restored_as of the preserved branch", kept.RestoredAs, ""},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
				}
			}
			if !main.Default || kept.Default {
				t.Errorf("default: main %v, preserved %v; want main only", main.Default, kept.Default)
			}
		})
	}
}

// TestRestoreInPlace: the restored branch keeps its compute endpoint and
// connection string; the preserved branch has no compute, so Neon gives no
// connection string for it.
func TestRestoreInPlace(t *testing.T) {
	t.Parallel()
	e := newEnv(t, neonemu.Options{}, neonemu.ProjectSpec{})
	uri := func(branchID string) (int, map[string]any) {
		return e.call(t, "GET", "/projects/"+e.project.ID+"/connection_uri?database_name=neondb&role_name=neondb_owner&branch_id="+branchID, nil)
	}
	status, before := uri(e.main.ID)
	if status != http.StatusOK {
		t.Fatalf("connection_uri before = %d %v", status, before)
	}
	endpoint, _ := e.emu.EndpointID(e.main.ID)
	snap, err := e.emu.Snapshot(context.Background(), e.main.ID)
	if err != nil {
		t.Fatal(err)
	}
	status, body := e.call(t, "POST", "/projects/"+e.project.ID+"/branches/"+e.main.ID+"/restore",
		map[string]any{"source_branch_id": e.main.ID, "source_lsn": snap.LSN, "preserve_under_name": "old"})
	if status != http.StatusOK {
		t.Fatalf("restore = %d %v", status, body)
	}
	for _, op := range list(t, body, "operations") {
		if op["branch_id"] != e.main.ID {
			t.Errorf("operation %v is not on the restored branch", op)
		}
	}
	if status, after := uri(e.main.ID); status != http.StatusOK || after["uri"] != before["uri"] {
		t.Errorf("connection_uri after = %d %v, want the same as before %v", status, after, before["uri"])
	}
	if got, _ := e.emu.EndpointID(e.main.ID); got != endpoint {
		t.Errorf("endpoint after = %q, want %q", got, endpoint)
	}
	kept, _ := e.emu.BranchByName(e.project.ID, "old")
	status, body = uri(kept.ID)
	if status != http.StatusNotFound {
		t.Errorf("connection_uri of the preserved branch = %d %v, want 404 (no compute)", status, body)
	}
}

func TestRestoreToHeadOfOtherBranch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, neonemu.Options{}, neonemu.ProjectSpec{})
	ctx := context.Background()
	backup, err := e.emu.CreateBranch(ctx, e.project.ID, "backup", e.main.ID)
	if err != nil {
		t.Fatal(err)
	}
	// main has a child (backup), so preserve_under_name is required.
	status, body := e.call(t, "POST", "/projects/"+e.project.ID+"/branches/"+e.main.ID+"/restore",
		map[string]any{"source_branch_id": backup.ID, "preserve_under_name": "main_before"})
	if status != http.StatusOK {
		t.Fatalf("restore = %d %v", status, body)
	}
	if got := len(e.emu.Snapshots(backup.ID)); got != 1 {
		t.Errorf("restoring to the source's head recorded %d snapshots of it, want 1", got)
	}
}

func TestConnectionURI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, neonemu.Options{}, neonemu.ProjectSpec{RegionID: "aws-eu-central-1"})
	base := "/projects/" + e.project.ID + "/connection_uri?"
	tests := []struct {
		name   string
		query  string
		status int
		want   string // part of the URI
	}{
		{"default branch", "database_name=neondb&role_name=neondb_owner", 200, "eu-central-1.aws.neon.tech/neondb"},
		{"explicit branch", "database_name=neondb&role_name=neondb_owner&branch_id=" + e.main.ID, 200, "postgres://neondb_owner:"},
		{"pooled", "database_name=neondb&role_name=neondb_owner&pooled=true", 200, "-pooler."},
		{"no database", "role_name=neondb_owner", 400, ""},
		{"no role", "database_name=neondb", 400, ""},
		{"bad pooled", "database_name=neondb&role_name=neondb_owner&pooled=maybe", 400, ""},
		{"unknown database", "database_name=other&role_name=neondb_owner", 404, ""},
		{"unknown role", "database_name=neondb&role_name=admin", 404, ""},
		{"unknown branch", "database_name=neondb&role_name=neondb_owner&branch_id=br-x-000000", 404, ""},
		{"unknown endpoint", "database_name=neondb&role_name=neondb_owner&endpoint_id=ep-x-000000", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.call(t, "GET", base+tc.query, nil)
			if status != tc.status {
				t.Fatalf("status = %d, want %d (%v)", status, tc.status, body)
			}
			if status != 200 {
				wantNeonError(t, body)
				return
			}
			if uri := fmt.Sprint(body["uri"]); !strings.Contains(uri, tc.want) {
				t.Errorf("uri = %q, want it to contain %q", uri, tc.want)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inject func(*neonemu.Emulator)
		path   string
		want   []int
	}{
		{"two 503s then success", func(e *neonemu.Emulator) { e.FailNext(2, 503) }, "/projects", []int{503, 503, 200}},
		{"one 423", func(e *neonemu.Emulator) { e.FailNext(1, 423) }, "/projects", []int{423, 200}},
		{"fault on another path", func(e *neonemu.Emulator) {
			e.InjectFault(neonemu.Fault{Status: 503, PathContains: "/restore"})
		}, "/projects", []int{200, 200}},
		{"fault on another method", func(e *neonemu.Emulator) {
			e.InjectFault(neonemu.Fault{Status: 503, Method: "POST", Times: 3})
		}, "/projects", []int{200}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, neonemu.Options{}, neonemu.ProjectSpec{})
			tc.inject(e.emu)
			var got []int
			for range tc.want {
				status, body := e.call(t, "GET", tc.path, nil)
				if status != 200 {
					wantNeonError(t, body)
				}
				got = append(got, status)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("statuses = %v, want %v", got, tc.want)
			}
			reqs := e.emu.Requests()
			if len(reqs) != len(tc.want) || reqs[0].Status != tc.want[0] || reqs[0].Path != tc.path {
				t.Errorf("Requests() = %+v", reqs)
			}
		})
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	e := newEnv(t, neonemu.Options{}, neonemu.ProjectSpec{})
	e.emu.SetLatency(80 * time.Millisecond)
	start := time.Now()
	if status, _ := e.call(t, "GET", "/projects", nil); status != 200 {
		t.Fatalf("status %d", status)
	}
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("request took %v, want at least the 80ms latency", d)
	}
	e.emu.ClearFaults()
	start = time.Now()
	e.call(t, "GET", "/projects", nil)
	if d := time.Since(start); d > 60*time.Millisecond {
		t.Errorf("request after ClearFaults took %v", d)
	}
}

func TestStartServesOverTCP(t *testing.T) {
	t.Parallel()
	emu := neonemu.New(neonemu.Options{})
	defer emu.Close()
	base, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(base, "/api/v2") || emu.URL() != base {
		t.Errorf("base URL = %q, URL() = %q", base, emu.URL())
	}
	status, body := callWithKey(t, "GET", base+"/projects", emu.APIKey(), nil)
	if status != 200 || len(list(t, body, "projects")) != 0 {
		t.Errorf("GET /projects = %d %v", status, body)
	}
	status, body = callWithKey(t, "GET", base+"/nothing/here", emu.APIKey(), nil)
	if status != 404 {
		t.Errorf("unknown route = %d", status)
	}
	wantNeonError(t, body)
}

func TestOperationsList(t *testing.T) {
	t.Parallel()
	e := newEnv(t, neonemu.Options{}, neonemu.ProjectSpec{})
	snap, _ := e.emu.Snapshot(context.Background(), e.main.ID)
	e.call(t, "POST", "/projects/"+e.project.ID+"/branches/"+e.main.ID+"/restore",
		map[string]any{"source_branch_id": e.main.ID, "source_lsn": snap.LSN, "preserve_under_name": "old"})
	status, body := e.call(t, "GET", "/projects/"+e.project.ID+"/operations", nil)
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	ops := list(t, body, "operations")
	inspected := e.emu.Operations(e.project.ID)
	if len(ops) != 2 || len(inspected) != 2 {
		t.Fatalf("listed %d, inspected %d operations; want 2", len(ops), len(inspected))
	}
	var ids []string
	for _, op := range inspected {
		ids = append(ids, op.ID)
	}
	sort.Strings(ids)
	got := []string{fmt.Sprint(ops[0]["id"]), fmt.Sprint(ops[1]["id"])}
	sort.Strings(got)
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Errorf("listed %v, inspected %v", got, ids)
	}
}
