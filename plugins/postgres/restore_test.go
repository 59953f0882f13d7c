package postgres_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/internal/pgserver/pgtest"
	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// TestRestoreFormats restores dumps the real pg_dump made, in every
// format, into fresh databases and checks what arrived.
func TestRestoreFormats(t *testing.T) {
	t.Parallel()
	srv, src := pgtest.NewDatabase(t)
	seed(t, srv, src, 40)
	dumps := map[string]string{}
	for _, f := range []string{"plain", "custom", "tar", "directory"} {
		dumps[f] = pgDump(t, srv, src, f)
	}
	dumps["gzip"] = gzipFile(t, dumps["plain"])
	tests := []struct {
		name, dump, format string
		inputs             map[string]any
	}{
		{"plain", "plain", "plain", nil},
		{"gzipped plain", "gzip", "plain", nil},
		{"custom", "custom", "custom", nil},
		{"custom no_owner", "custom", "custom", map[string]any{"no_owner": true}},
		{"tar", "tar", "tar", nil},
		{"directory", "directory", "directory", nil},
		{"custom parallel", "custom", "custom", map[string]any{"jobs": 2}},
		{"directory parallel", "directory", "directory", map[string]any{"jobs": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, db := pgtest.NewDatabase(t)
			h := newHost(t, map[string]map[string]any{"postgres": {"url": srv.URL(db)}})
			in := map[string]any{"file": dumps[tt.dump]}
			for k, v := range tt.inputs {
				in[k] = v
			}
			out := h.must("postgres.restore_dump", in)
			if out["format"] != tt.format || out["tables"] != 2 || out["rows"] != 120 || out["database"] != db {
				t.Fatalf("restore = %v", out)
			}
			tr := out["table_rows"].(map[string]any)
			if tr["public.users"] != 40 || tr["public.orders"] != 80 {
				t.Fatalf("table_rows = %v", tr)
			}
			if d := out["duration"].(time.Duration); d <= 0 {
				t.Fatalf("duration = %v", d)
			}
			q := h.must("postgres.query", map[string]any{"sql": "select count(*) as users, (select count(*) from orders) as orders from users"})
			if row := q["rows"].([]any)[0].(map[string]any); row["users"] != 40 || row["orders"] != 80 {
				t.Fatalf("restored database holds %v", row)
			}
		})
	}
}

// TestRestoreClean restores a custom dump twice over itself with clean.
func TestRestoreClean(t *testing.T) {
	t.Parallel()
	srv, src := pgtest.NewDatabase(t)
	seed(t, srv, src, 5)
	dump := pgDump(t, srv, src, "custom")
	_, db := pgtest.NewDatabase(t)
	h := newHost(t, map[string]map[string]any{"postgres": {"url": srv.URL(db)}})
	h.must("postgres.restore_dump", map[string]any{"file": dump})
	h.must("postgres.exec", map[string]any{"sql": "delete from orders; insert into users (email, created_at) values ('extra@example.com', now())", "multiple_statements": true})
	_, err := h.run("postgres.restore_dump", map[string]any{"file": dump})
	plugintest.WantKind(t, err, sdk.KindPermanent) // the tables exist already
	if !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("error = %v", err)
	}
	h.must("postgres.restore_dump", map[string]any{"file": dump, "clean": true})
	q := h.must("postgres.query", map[string]any{"sql": "select count(*) as users, (select count(*) from orders) as orders from users"})
	if row := q["rows"].([]any)[0].(map[string]any); row["users"] != 5 || row["orders"] != 10 {
		t.Fatalf("after a clean restore the database holds %v", row)
	}
}

// TestRestoreFailuresChangeNothing: a truncated or corrupt dump, or SQL
// that fails halfway, fails the step with a clear error and leaves the
// database exactly as it was.
func TestRestoreFailuresChangeNothing(t *testing.T) {
	t.Parallel()
	srv, src := pgtest.NewDatabase(t)
	seed(t, srv, src, 200)
	plain := read(t, pgDump(t, srv, src, "plain"))
	custom := read(t, pgDump(t, srv, src, "custom"))
	copyAt := bytes.Index(plain, []byte("COPY public.users"))
	lineEnd := copyAt + bytes.Index(plain[copyAt+2000:], []byte("\n")) + 2001 // a whole number of lines into the COPY data
	tests := []struct {
		name    string
		content []byte
		inputs  map[string]any
		kind    sdk.Kind
		msg     string
	}{
		{"plain cut between rows", plain[:lineEnd], nil, sdk.KindPermanent, "is incomplete"},
		{"plain cut mid-row", plain[:lineEnd+7], nil, sdk.KindPermanent, "nothing was restored"},
		{"plain cut mid-row, incomplete allowed", plain[:lineEnd+7], map[string]any{"allow_incomplete": true}, sdk.KindPermanent, "psql failed"},
		{"plain cut before COPY", plain[:copyAt], nil, sdk.KindPermanent, "is incomplete"},
		{"gzipped plain cut short", gzipBytes(t, plain)[:len(gzipBytes(t, plain))/2], nil, sdk.KindPermanent, "corrupt or truncated"},
		{"error halfway", bytes.Replace(plain, []byte("\nCOPY public.users"), []byte("\nselect 1/0;\nCOPY public.users"), 1), nil, sdk.KindPermanent, "division by zero"},
		{"custom cut short", custom[:len(custom)*2/3], nil, sdk.KindPermanent, "pg_restore failed"},
		{"custom cut in header", custom[:40], nil, sdk.KindPermanent, "pg_restore failed"},
		{"custom cut short, parallel", custom[:len(custom)*2/3], map[string]any{"jobs": 2}, sdk.KindPermanent, "pg_restore failed"},
		{"binary garbage", append([]byte("\x00\x01garbage"), make([]byte, 600)...), nil, sdk.KindPermanent, "neither SQL nor a pg_dump archive"},
		{"empty", nil, nil, sdk.KindPermanent, "is empty"},
		{"clean with plain", plain, map[string]any{"clean": true}, sdk.KindBadInput, "clean needs an archive"},
		{"jobs with plain", plain, map[string]any{"jobs": 4}, sdk.KindBadInput, "jobs > 1 needs a custom or directory-format dump"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, db := pgtest.NewDatabase(t)
			sentinel(t, srv, db)
			h := newHost(t, map[string]map[string]any{"postgres": {"url": srv.URL(db)}})
			in := map[string]any{"file": writeBytes(t, "dump", tt.content)}
			for k, v := range tt.inputs {
				in[k] = v
			}
			_, err := h.run("postgres.restore_dump", in)
			plugintest.WantKind(t, err, tt.kind)
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error lacks %q: %v", tt.msg, err)
			}
			t.Logf("%v", err)
			if _, parallel := tt.inputs["jobs"]; parallel && tt.kind != sdk.KindBadInput {
				return // a parallel restore is not one transaction
			}
			if got := tablesOf(t, srv, db); !slices.Equal(got, []string{"before_restore"}) {
				t.Fatalf("a failed restore changed the database: tables %v", got)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		_, db := pgtest.NewDatabase(t)
		h := newHost(t, map[string]map[string]any{"postgres": {"url": srv.URL(db)}})
		_, err := h.run("postgres.restore_dump", map[string]any{"file": filepath.Join(t.TempDir(), "nope.sql")})
		plugintest.WantKind(t, err, sdk.KindNotFound)
	})
}

// TestRestoreReconcile: the marker written with the restore lets a
// crashed run tell whether its restore happened.
func TestRestoreReconcile(t *testing.T) {
	t.Parallel()
	srv, src := pgtest.NewDatabase(t)
	seed(t, srv, src, 7)
	plain := pgDump(t, srv, src, "plain")
	custom := pgDump(t, srv, src, "custom")
	_, db := pgtest.NewDatabase(t)
	h := newHost(t, map[string]map[string]any{"postgres": {"url": srv.URL(db)}})
	in := map[string]any{"file": plain}
	rec, err := h.reconcile("postgres.restore_dump", in, "key-1")
	if err != nil || rec.State != sdk.NotApplied {
		t.Fatalf("before: %v, %v", rec, err)
	}
	out, err := h.runKey("postgres.restore_dump", in, "key-1")
	if err != nil {
		t.Fatal(err)
	}
	rec, err = h.reconcile("postgres.restore_dump", in, "key-1")
	if err != nil || rec.State != sdk.Applied {
		t.Fatalf("after: %v, %v", rec, err)
	}
	for _, k := range []string{"format", "tables", "rows", "database"} {
		if rec.Outputs[k] != out[k] {
			t.Errorf("reconciled %s = %v, the run said %v", k, rec.Outputs[k], out[k])
		}
	}
	if tr := rec.Outputs["table_rows"].(map[string]any); tr["public.users"] != 7 {
		t.Errorf("reconciled table_rows = %v", tr)
	}
	if rec, _ := h.reconcile("postgres.restore_dump", in, "key-2"); rec.State != sdk.NotApplied {
		t.Errorf("another key: %v", rec.State)
	}
	// A failed restore leaves no marker: provably not applied.
	_, err = h.runKey("postgres.restore_dump", map[string]any{"file": custom}, "key-3")
	plugintest.WantKind(t, err, sdk.KindPermanent)
	if rec, _ := h.reconcile("postgres.restore_dump", map[string]any{"file": custom}, "key-3"); rec.State != sdk.NotApplied {
		t.Errorf("after a failed restore: %v", rec.State)
	}
	// Without the marker, or in parallel, the plugin cannot prove a negative.
	for _, extra := range []map[string]any{{"marker": false}, {"jobs": 2}} {
		extra["file"] = custom
		if rec, _ := h.reconcile("postgres.restore_dump", extra, "key-4"); rec.State != sdk.Unknown {
			t.Errorf("%v: %v, want unknown", extra, rec.State)
		}
	}
	// The application's schema gets nothing from the marker.
	if got := tablesOf(t, srv, db); !slices.Equal(got, []string{"orders", "users"}) {
		t.Errorf("tables = %v", got)
	}
	// A database the role does not own refuses the marker up front.
	if err := execIn(srv, "postgres", "create role restorer login; grant create on database "+db+" to restorer"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = execIn(srv, "postgres", "drop owned by restorer cascade; drop role restorer") })
	url := strings.Replace(srv.URL(db), "postgres@", "restorer@", 1)
	_, err = h.run("postgres.restore_dump", map[string]any{"url": url, "file": plain})
	plugintest.WantKind(t, err, sdk.KindBadInput)
	if !strings.Contains(err.Error(), "does not own database") {
		t.Fatalf("error = %v", err)
	}
}

func TestRestorePlan(t *testing.T) {
	t.Parallel()
	srv, src := pgtest.NewDatabase(t)
	seed(t, srv, src, 1)
	h := newHost(t, map[string]map[string]any{"postgres": {"url": srv.URL(src)}})
	for _, tt := range []struct {
		inputs map[string]any
		want   string
	}{
		{map[string]any{"file": pgDump(t, srv, src, "custom"), "clean": true}, "would restore the custom-format dump"},
		{map[string]any{"file": pgDump(t, srv, src, "plain")}, "with psql in one transaction"},
		{map[string]any{"file": "/nonexistent/dump.sql"}, "cannot be read now"},
	} {
		p, err := h.plan("postgres.restore_dump", tt.inputs)
		if err != nil || !strings.Contains(p.Summary, tt.want) || strings.Contains(p.Summary, "@127") && !strings.Contains(p.Summary, "postgres://postgres@") {
			t.Errorf("plan = %q, %v; want %q", p.Summary, err, tt.want)
		}
	}
	p, err := h.plan("postgres.query", map[string]any{"sql": "select 1\nfrom x"})
	if err != nil || !strings.Contains(p.Summary, "would query postgres://postgres@127.0.0.1") {
		t.Errorf("query plan = %q, %v", p.Summary, err)
	}
}

func read(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeBytes(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipFile(t *testing.T, p string) string {
	t.Helper()
	return writeBytes(t, filepath.Base(p)+".gz", gzipBytes(t, read(t, p)))
}

// TestRestoreCancelled: a step cancelled mid-restore (its timeout, or the
// operator) returns at once and the database is as it was.
func TestRestoreCancelled(t *testing.T) {
	t.Parallel()
	srv, db := pgtest.NewDatabase(t)
	sentinel(t, srv, db)
	dump := writeFile(t, "slow.sql", "create table half_done (n int);\nselect pg_sleep(30);\n-- PostgreSQL database dump complete\n")
	h := newHost(t, map[string]map[string]any{"postgres": {"url": srv.URL(db)}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := h.mgr.Execute(ctx, "postgres", sdk.Request{Action: "restore_dump", Inputs: map[string]any{"file": dump}, IdempotencyKey: "cancel-1"}, nil)
	plugintest.WantKind(t, err, sdk.KindDeadlineExceeded)
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the cancelled restore took %s", d)
	}
	// The server rolls back when psql's connection drops; give it a moment.
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Equal(tablesOf(t, srv, db), []string{"before_restore"}) {
		if time.Now().After(deadline) {
			t.Fatalf("a cancelled restore changed the database: %v", tablesOf(t, srv, db))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("execute returned after %s", time.Since(start))
	// The plugin ends the restore's server session; until then Reconcile
	// rightly cannot tell.
	for {
		rec, err := h.reconcile("postgres.restore_dump", map[string]any{"file": dump}, "cancel-1")
		if err != nil {
			t.Fatal(err)
		}
		if rec.State == sdk.NotApplied {
			break
		}
		if rec.State != sdk.Unknown || time.Now().After(deadline) {
			t.Fatalf("reconcile after a cancelled restore: %v", rec.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("not applied after %s", time.Since(start))
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the server session outlived the cancelled step by %s", d)
	}
}
