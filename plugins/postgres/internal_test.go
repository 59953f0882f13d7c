package postgres

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/internal/pgserver/pgtest"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/jackc/pgx/v5/pgtype"
)

func TestRuntimeValue(t *testing.T) {
	ts := time.Date(2024, 5, 20, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   any
		want any
	}{
		{nil, nil},
		{int64(42), 42},
		{int32(-7), -7},
		{int16(3), 3},
		{float32(1.5), 1.5},
		{"text", "text"},
		{true, true},
		{ts, ts},
		{pgtype.Numeric{Int: big.NewInt(12345), Exp: -2, Valid: true}, 123.45},
		{pgtype.Numeric{Int: big.NewInt(5), Exp: 3, Valid: true}, 5000.0},
		{pgtype.Numeric{}, nil},
		{pgtype.Interval{Microseconds: 90 * 60 * 1e6, Days: 1, Valid: true}, 25*time.Hour + 30*time.Minute},
		{pgtype.Interval{Months: 1, Valid: true}, 30 * 24 * time.Hour},
		{pgtype.Time{Microseconds: (13*3600 + 5*60 + 7) * 1e6, Valid: true}, "13:05:07"},
		{pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}, "infinity"},
		{pgtype.Date{Time: ts, Valid: true}, ts},
		{[]byte{0xde, 0xad}, `\xdead`},
		{[16]byte{0: 0x12, 15: 0x34}, "12000000-0000-0000-0000-000000000034"},
		{netip.MustParsePrefix("10.0.0.1/32"), "10.0.0.1"},
		{netip.MustParsePrefix("10.0.0.0/8"), "10.0.0.0/8"},
		{[]any{int64(1), nil, "x"}, []any{1, nil, "x"}},
		{map[string]any{"n": float64(2)}, map[string]any{"n": 2.0}},
	}
	for _, tt := range tests {
		got := runtimeValue(tt.in)
		if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tt.want) {
			t.Errorf("runtimeValue(%#v) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
	if f := runtimeValue(pgtype.Numeric{NaN: true, Valid: true}).(float64); !math.IsNaN(f) {
		t.Errorf("NaN numeric = %v", f)
	}
}

func TestDumpScanner(t *testing.T) {
	long := strings.Repeat("x", 300<<10) // longer than the read buffer
	sql := "SET statement_timeout = 0;\n" +
		"CREATE TABLE public.users (\n    id bigint NOT NULL\n);\n" +
		"CREATE UNLOGGED TABLE public.\"Odd Name\" (n int);\n" +
		"CREATE TABLE IF NOT EXISTS app.events (id int);\n" +
		"COPY public.users (id) FROM stdin;\n1\n2\n" + long + "\n3\n\\.\n" +
		"COPY public.\"Odd Name\" (n) FROM stdin;\n\\.\n" +
		"INSERT INTO app.events VALUES (1);\nINSERT INTO app.events VALUES (2);\n" +
		"CREATE TABLE not.at_line_start_is_data (x int);\n" +
		"--\n-- PostgreSQL database dump complete\n--\n"
	s := newDumpScanner()
	var out bytes.Buffer
	if err := s.copy(&out, strings.NewReader(sql)); err != nil {
		t.Fatal(err)
	}
	if out.String() != sql {
		t.Fatal("the scanner changed the SQL on its way through")
	}
	if got := strings.Join(s.tables, ","); got != `public.users,public."Odd Name",app.events,not.at_line_start_is_data` {
		t.Errorf("tables = %s", got)
	}
	want := map[string]int{"public.users": 4, `public."Odd Name"`: 0, "app.events": 2, "not.at_line_start_is_data": 0}
	for k, v := range want {
		if s.rows[k] != v {
			t.Errorf("rows[%s] = %d, want %d (all: %v)", k, s.rows[k], v, s.rows)
		}
	}
	if s.total != 6 || !s.complete || s.bytes != int64(len(sql)) {
		t.Errorf("total %d, complete %t, bytes %d", s.total, s.complete, s.bytes)
	}
	s = newDumpScanner()
	_ = s.copy(&out, strings.NewReader(strings.TrimSuffix(sql, "--\n-- PostgreSQL database dump complete\n--\n")))
	if s.complete {
		t.Error("a dump without its trailer counts as complete")
	}
}

func TestMasking(t *testing.T) {
	const pw = "s3cr3t/p@ss:word"
	tests := []struct {
		name, raw string
	}{
		{"url", "postgres://app:s3cr3t%2Fp%40ss%3Aword@db.example:5432/app?sslmode=disable"},
		{"url password param", "postgresql://app@db.example/app?password=s3cr3t%2Fp%40ss%3Aword"},
		{"keyword/value", "host=db.example user=app password='s3cr3t/p@ss:word' dbname=app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := passwordOf(tt.raw); got != pw {
				t.Fatalf("passwordOf = %q", got)
			}
			tg, err := newTarget(tt.raw, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			conn := tg.psqlConn("runbook-restore-x")
			if strings.Contains(conn, "s3cr3t") || !strings.Contains(conn, "application_name") || !strings.Contains(conn, "db.example") {
				t.Fatalf("psql connection string = %q", conn)
			}
			env := strings.Join(tg.toolEnv([]string{"PGPASSWORD=old", "HOME=/x"}), " ")
			if !strings.Contains(env, "PGPASSWORD="+pw) || strings.Contains(env, "old") {
				t.Fatalf("tool env = %q", env)
			}
			msg := tg.mask("failed for " + tt.raw + " and " + pw)
			if strings.Contains(msg, "s3cr3t") {
				t.Fatalf("masked = %q", msg)
			}
			if tg.where != "postgres://app@db.example:5432/app" {
				t.Fatalf("where = %q", tg.where)
			}
		})
	}
	for _, bad := range []string{
		"postgres://app:Canary-77@db.example:notaport/app",
		"postgres://app:Canary-77@[::1/app",
		"host=db password=Canary-77 port=x",
	} {
		_, err := newTarget(bad, time.Second)
		if sdk.KindOf(err) != sdk.KindBadInput || strings.Contains(err.Error(), "Canary-77") {
			t.Errorf("newTarget(%q) = %v", bad, err)
		}
	}
}

func TestSQLStateKinds(t *testing.T) {
	for code, want := range map[string]sdk.Kind{
		"28P01": sdk.KindUnauthenticated, "3D000": sdk.KindNotFound, "42501": sdk.KindPermissionDenied,
		"57P03": sdk.KindRetryable, "08006": sdk.KindRetryable, "53300": sdk.KindRetryable, "40001": sdk.KindRetryable,
		"42601": sdk.KindBadInput, "42P01": sdk.KindBadInput, "22012": sdk.KindPermanent, "23505": sdk.KindPermanent,
	} {
		if got := sqlstateKind(code); got != want {
			t.Errorf("sqlstateKind(%s) = %s, want %s", code, got, want)
		}
	}
	for stderr, want := range map[string]sdk.Kind{
		`psql: error: connection to server at "127.0.0.1", port 1 failed: Connection refused`:            sdk.KindRetryable,
		`psql: error: FATAL:  password authentication failed for user "app"`:                             sdk.KindUnauthenticated,
		`psql: error: connection to server failed: FATAL:  database "x" does not exist`:                  sdk.KindNotFound,
		`psql:<stdin>:12: ERROR:  permission denied for schema public`:                                   sdk.KindPermissionDenied,
		`psql:<stdin>:520: ERROR:  division by zero`:                                                     sdk.KindPermanent,
		`pg_restore: error: could not execute query: ERROR:  relation "users" does not exist` + "\nx":    sdk.KindPermanent,
		`psql:<stdin>:3: ERROR:  database "x" does not exist` + "\nHINT: ...":                            sdk.KindPermanent,
		`pg_restore: error: could not read from input file: end of file` + "\n" + `pg_restore: warning:`: sdk.KindPermanent,
	} {
		if got := toolKind(stderr); got != want {
			t.Errorf("toolKind(%q) = %s, want %s", stderr, got, want)
		}
	}
}

// TestMarkerRoundTrip writes a marker with awkward characters through a
// real server and reads it back.
func TestMarkerRoundTrip(t *testing.T) {
	srv, db := pgtest.NewDatabase(t)
	ctx := context.Background()
	file := `/tmp/o'neil's $runbook_marker$ \dump\.sql`
	req := sdk.Request{RunID: "run-'1'", StepID: "restore", IdempotencyKey: `key$'"\`}
	out := map[string]any{"format": "plain", "tables": 2, "rows": 9, "table_rows": map[string]any{`public."x'y"`: 9}, "database": db, "duration": 1500 * time.Millisecond}
	// pg_dump's SQL runs with an empty search_path and may turn off standard_conforming_strings.
	sql := "SELECT pg_catalog.set_config('search_path', '', false); SET standard_conforming_strings = off;" + markerSQL(req, file, out)
	conn, err := srv.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("marker SQL: %v\n%s", err, sql)
	}
	var comment *string
	if err := conn.QueryRow(ctx, "select shobj_description(oid, 'pg_database') from pg_database where datname = current_database()").Scan(&comment); err != nil {
		t.Fatal(err)
	}
	m, ok := parseMarker(comment)
	if !ok || m.Key != req.IdempotencyKey || m.File != file || m.Rows != 9 || m.DurationMS != 1500 || m.Run != req.RunID {
		t.Fatalf("marker = %+v, %t from %v", m, ok, *comment)
	}
}

func TestPsqlConnMultiHost(t *testing.T) {
	tg, err := newTarget("postgres://app:Canary-9@h1:5432,h2:5432/app?target_session_attrs=read-write", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := tg.psqlConn("rb"); got != "postgres://app@h1:5432,h2:5432/app?application_name=rb&target_session_attrs=read-write" {
		t.Fatalf("psqlConn = %q", got)
	}
}
