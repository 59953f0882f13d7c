package pgserver_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alpha-orion/runbook/internal/pgserver"
	"github.com/alpha-orion/runbook/internal/pgserver/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestFindBinDir(t *testing.T) {
	t.Parallel()
	full := t.TempDir()
	for _, name := range []string{"initdb", "postgres"} {
		if err := os.WriteFile(filepath.Join(full, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	partial := t.TempDir()
	if err := os.WriteFile(filepath.Join(partial, "initdb"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dir     string
		wantErr bool
	}{
		{"folder with both binaries", full, false},
		{"folder without postgres", partial, true},
		{"missing folder", filepath.Join(full, "nope"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pgserver.FindBinDir(tc.dir)
			if tc.wantErr {
				if !errors.Is(err, pgserver.ErrNotInstalled) {
					t.Fatalf("FindBinDir(%q) error = %v, want ErrNotInstalled", tc.dir, err)
				}
				if !strings.Contains(err.Error(), "apt-get install postgresql") {
					t.Errorf("error %q does not say how to install", err)
				}
				return
			}
			if err != nil || got != tc.dir {
				t.Fatalf("FindBinDir(%q) = %q, %v", tc.dir, got, err)
			}
		})
	}
}

func TestStartMissingBinaries(t *testing.T) {
	t.Parallel()
	_, err := pgserver.Start(context.Background(), pgserver.Options{BinDir: t.TempDir()})
	if !errors.Is(err, pgserver.ErrNotInstalled) {
		t.Fatalf("Start with an empty BinDir: error = %v, want ErrNotInstalled", err)
	}
}

func TestDatabases(t *testing.T) {
	t.Parallel()
	srv, db := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	exec(t, srv.URL(db), "CREATE TABLE t (n int); INSERT INTO t VALUES (1), (2), (3)")
	// An open session on the template must not block the copy.
	holder, err := pgx.Connect(ctx, srv.URL(db))
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)

	clone := db + "_clone"
	if err := srv.CloneDatabase(ctx, clone, db); err != nil {
		t.Fatalf("CloneDatabase: %v", err)
	}
	defer srv.DropDatabase(ctx, clone)
	exec(t, srv.URL(db), "DELETE FROM t")
	if got, want := count(t, srv.URL(clone)), 3; got != want {
		t.Errorf("clone has %d rows, want %d", got, want)
	}
	if got, want := count(t, srv.URL(db)), 0; got != want {
		t.Errorf("original has %d rows, want %d", got, want)
	}

	online := db + "_online"
	exec(t, srv.URL(db), "INSERT INTO t VALUES (7)")
	writer, err := pgx.Connect(ctx, srv.URL(db)) // CloneDatabase ended holder's session
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close(ctx)
	if err := srv.CopyDatabase(ctx, online, db); err != nil {
		t.Fatalf("CopyDatabase: %v", err)
	}
	defer srv.DropDatabase(ctx, online)
	if got, want := count(t, srv.URL(online)), 1; got != want {
		t.Errorf("online copy has %d rows, want %d", got, want)
	}
	if err := writer.Ping(ctx); err != nil {
		t.Errorf("CopyDatabase ended a session on the source: %v", err)
	}

	renamed := db + "_renamed"
	if err := srv.RenameDatabase(ctx, clone, renamed); err != nil {
		t.Fatalf("RenameDatabase: %v", err)
	}
	for name, want := range map[string]bool{clone: false, renamed: true} {
		if got, err := srv.DatabaseExists(ctx, name); err != nil || got != want {
			t.Errorf("DatabaseExists(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	if err := srv.DropDatabase(ctx, renamed); err != nil {
		t.Fatalf("DropDatabase: %v", err)
	}
	if got, _ := srv.DatabaseExists(ctx, renamed); got {
		t.Errorf("%q still exists after DropDatabase", renamed)
	}
}

func TestStartStop(t *testing.T) {
	t.Parallel()
	pgtest.Start(t) // skips or fails like every other test when PostgreSQL is missing
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := reachableTempDir(t)
	srv, err := pgserver.Start(ctx, pgserver.Options{Dir: dir})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := srv.CreateDatabase(ctx, "app"); err != nil {
		t.Fatalf("CreateDatabase: %v", err)
	}
	exec(t, srv.URL("app"), "SELECT 1")
	if !strings.HasPrefix(srv.URL("app"), "postgres://postgres@127.0.0.1:") {
		t.Errorf("URL = %q", srv.URL("app"))
	}
	if err := srv.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := os.Stat(srv.Dir()); !os.IsNotExist(err) {
		t.Errorf("folder %s still there after Stop (stat: %v)", srv.Dir(), err)
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestStartUnreachableDirAsRoot(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("only root runs postgres as another user")
	}
	pgtest.Start(t)
	_, err := pgserver.Start(context.Background(), pgserver.Options{Dir: t.TempDir()}) // 0700, root's
	if err == nil || !strings.Contains(err.Error(), "not reachable") {
		t.Fatalf("Start in a private folder: error = %v, want 'not reachable'", err)
	}
}

// reachableTempDir returns a test folder the postgres OS user can reach.
func reachableTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReapStale(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	folders := []struct {
		name   string
		owner  string
		reaped bool
	}{
		{"pgserver-dead", "999999999\n", true},
		{"pgserver-alive", "1\n", false}, // init never dies
		{"pgserver-nomarker", "", false},
		{"other-dead", "999999999\n", false},
	}
	for _, f := range folders {
		if err := os.MkdirAll(filepath.Join(dir, f.name), 0o755); err != nil {
			t.Fatal(err)
		}
		if f.owner != "" {
			if err := os.WriteFile(filepath.Join(dir, f.name, "owner.pid"), []byte(f.owner), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	n, err := pgserver.ReapStale(dir)
	if err != nil || n != 1 {
		t.Fatalf("ReapStale = %d, %v; want 1, nil", n, err)
	}
	for _, f := range folders {
		_, err := os.Stat(filepath.Join(dir, f.name))
		if gone := os.IsNotExist(err); gone != f.reaped {
			t.Errorf("%s: removed = %v, want %v", f.name, gone, f.reaped)
		}
	}
}

func exec(t *testing.T, url, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func count(t *testing.T, url string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
