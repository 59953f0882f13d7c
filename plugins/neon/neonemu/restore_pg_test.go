package neonemu_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alpha-orion/runbook/internal/pgserver/pgtest"
	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/neon/neonemu"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestRestoreBringsDataBack is the runbook's story end to end: rows are
// deleted by an incident, the branch is restored in place to a time before
// it, and the same connection URI shows the rows again; a session opened
// before the restore is ended, as the compute restart ends it at Neon.
func TestRestoreBringsDataBack(t *testing.T) {
	t.Parallel()
	srv, db := pgtest.NewDatabase(t)
	plugintest.ExecSQL(t, srv.URL(db), "CREATE TABLE users (id int PRIMARY KEY, name text)",
		"INSERT INTO users VALUES (1, 'ada'), (2, 'grace'), (3, 'linus')")
	e := newEnv(t, neonemu.Options{Server: srv}, neonemu.ProjectSpec{Database: db})
	ctx := context.Background()

	if _, err := e.emu.Snapshot(ctx, e.main.ID); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	restorePoint := time.Now().UTC()
	uriBefore := e.uri(t, "")
	plugintest.ExecSQL(t, uriBefore, "DELETE FROM users") // the incident
	if got := countUsers(t, uriBefore); got != 0 {
		t.Fatalf("after the incident: %d users, want 0", got)
	}
	app, err := pgx.Connect(ctx, uriBefore) // a session the restore must end
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(ctx)

	status, body := e.call(t, "POST", "/projects/"+e.project.ID+"/branches/"+e.main.ID+"/restore", map[string]any{
		"source_branch_id":    e.main.ID,
		"source_timestamp":    restorePoint.Format(time.RFC3339Nano),
		"preserve_under_name": "main_old",
	})
	if status != 200 {
		t.Fatalf("restore = %d %v", status, body)
	}
	for _, op := range list(t, body, "operations") {
		e.waitOperation(t, fmt.Sprint(op["id"]))
	}

	if uriAfter := e.uri(t, ""); uriAfter != uriBefore {
		t.Errorf("the connection URI changed: %s, want %s", uriAfter, uriBefore)
	}
	if got := countUsers(t, uriBefore); got != 3 {
		t.Errorf("after the restore: %d users through the same URI, want 3", got)
	}
	if err := app.Ping(ctx); err == nil {
		t.Error("a session opened before the restore survived it")
	}
	old, ok := e.emu.BranchByName(e.project.ID, "main_old")
	if !ok {
		t.Fatal("no branch main_old")
	}
	oldURI, err := e.emu.ConnectionURI(old.ID) // no compute: read its data directly
	if err != nil {
		t.Fatal(err)
	}
	if got := countUsers(t, oldURI); got != 0 {
		t.Errorf("preserved branch main_old has %d users, want 0 (the state before the restore)", got)
	}
}

func TestRestoreByLSNAndHead(t *testing.T) {
	t.Parallel()
	srv, db := pgtest.NewDatabase(t)
	plugintest.ExecSQL(t, srv.URL(db), "CREATE TABLE users (id int)", "INSERT INTO users VALUES (1)")
	e := newEnv(t, neonemu.Options{Server: srv}, neonemu.ProjectSpec{Database: db})
	ctx := context.Background()
	one, err := e.emu.Snapshot(ctx, e.main.ID)
	if err != nil {
		t.Fatal(err)
	}
	plugintest.ExecSQL(t, srv.URL(db), "INSERT INTO users VALUES (2)")
	backup, err := e.emu.CreateBranch(ctx, e.project.ID, "backup", e.main.ID) // holds 2 users
	if err != nil {
		t.Fatal(err)
	}
	plugintest.ExecSQL(t, srv.URL(db), "INSERT INTO users VALUES (3)")
	restore := func(body map[string]any) {
		t.Helper()
		status, resp := e.call(t, "POST", "/projects/"+e.project.ID+"/branches/"+e.main.ID+"/restore", body)
		if status != 200 {
			t.Fatalf("restore = %d %v", status, resp)
		}
		e.emu.FinishOperations()
	}
	restore(map[string]any{"source_branch_id": e.main.ID, "source_lsn": one.LSN, "preserve_under_name": "before_lsn"})
	if got := countUsers(t, e.uri(t, "")); got != 1 {
		t.Errorf("after restoring to the LSN: %d users, want 1", got)
	}
	restore(map[string]any{"source_branch_id": backup.ID, "preserve_under_name": "before_head"})
	if got := countUsers(t, e.uri(t, "")); got != 2 {
		t.Errorf("after restoring to backup's head: %d users, want 2", got)
	}
}

func TestSeedAndScheduledSnapshots(t *testing.T) {
	t.Parallel()
	srv := pgtest.Start(t)
	emu := neonemu.New(neonemu.Options{Server: srv, SnapshotEvery: 20 * time.Millisecond, OnlineSnapshots: true})
	defer emu.Close()
	_, b, err := emu.Seed(context.Background(), neonemu.ProjectSpec{RoleName: "app_owner"})
	if err != nil {
		t.Fatal(err)
	}
	uri, err := emu.ConnectionURI(b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := url.Parse(uri); u.User.Username() != "app_owner" {
		t.Errorf("URI %q does not log in as the project's role", uri)
	}
	ctx := context.Background()
	app, err := pgx.Connect(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(ctx)
	if _, err := app.Exec(ctx, "CREATE TABLE t (n int)"); err != nil { // the role can work in its database
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(emu.Snapshots(b.ID)) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d snapshots after 10s with SnapshotEvery=20ms", len(emu.Snapshots(b.ID)))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := app.Exec(ctx, "INSERT INTO t VALUES (1)"); err != nil {
		t.Errorf("online snapshots ended the application's session: %v", err)
	}
}

// uri asks the API for a branch's connection URI ("" means the default branch).
func (e *env) uri(t *testing.T, branchID string) string {
	t.Helper()
	q := "database_name=neondb&role_name=neondb_owner"
	if branchID != "" {
		q += "&branch_id=" + branchID
	}
	status, body := e.call(t, "GET", "/projects/"+e.project.ID+"/connection_uri?"+q, nil)
	if status != 200 {
		t.Fatalf("connection_uri = %d %v", status, body)
	}
	return fmt.Sprint(body["uri"])
}

// waitOperation polls an operation until it is terminal and checks it finished.
func (e *env) waitOperation(t *testing.T, id string) {
	t.Helper()
	for i := 0; i < 20; i++ {
		status, body := e.call(t, "GET", "/projects/"+e.project.ID+"/operations/"+id, nil)
		if status != 200 {
			t.Fatalf("GET operation = %d %v", status, body)
		}
		switch s := obj(t, body, "operation")["status"]; {
		case s == "finished":
			return
		case neonemu.Terminal(fmt.Sprint(s)):
			t.Fatalf("operation ended %v", s)
		}
	}
	t.Fatalf("operation %s not finished after 20 polls", id)
}

// countUsers counts the rows of the users table at uri.
func countUsers(t *testing.T, uri string) int {
	t.Helper()
	return plugintest.QueryInt(t, uri, "SELECT count(*) FROM users")
}
