package postgres_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/eval"
	"github.com/alpha-orion/runbook/internal/pgserver/pgtest"
	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// TestQueryTypes: a query's values arrive at the engine as runbook types,
// so guards such as the DR plan's row count and RPO checks hold.
func TestQueryTypes(t *testing.T) {
	t.Parallel()
	srv, db := pgtest.NewDatabase(t)
	seed(t, srv, db, 25)
	h := newHost(t, map[string]map[string]any{"postgres": {"url": srv.URL(db)}})
	out := h.must("postgres.query", map[string]any{"sql": `select count(*) as users, max(created_at) as newest, sum(total) as revenue,
		bool_and(active) as all_active, null::text as nothing, 'x'::text as label, 2.5::float8 as ratio, 7::int4 as small,
		interval '90 minutes' as window, '2024-05-20'::date as day, '00000000-0000-0000-0000-000000000001'::uuid as id,
		'{1,2}'::int[] as list, '{"a": 1}'::jsonb as doc
		from users join orders on orders.user_id = users.id`})
	if got := out["count"]; got != 1 {
		t.Fatalf("count = %v, want 1", got)
	}
	rows := out["rows"].([]any)
	row := rows[0].(map[string]any)
	tests := []struct {
		col  string
		want any
	}{
		{"users", 50},
		{"revenue", 1593.75},
		{"all_active", true},
		{"nothing", nil},
		{"label", "x"},
		{"ratio", 2.5},
		{"small", 7},
		{"window", (90 * time.Minute).String()},
		{"id", "00000000-0000-0000-0000-000000000001"},
		{"list", []any{1, 2}},
		{"doc", map[string]any{"a": 1}},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(row[tt.col]); got != fmt.Sprint(tt.want) {
			t.Errorf("%s = %#v (%T), want %#v", tt.col, row[tt.col], row[tt.col], tt.want)
		}
	}
	if cols := out["columns"].([]any); len(cols) != 13 || cols[0] != "users" || cols[1] != "newest" {
		t.Errorf("columns = %v", cols)
	}
	if _, ok := row["newest"].(string); ok {
		// The protocol carries a timestamp nested in rows as RFC 3339 text, and
		// the SDK types only top-level outputs: see TestQueryGuardsInProcess.
		t.Logf("newest arrives as text %q: time guards on rows need the SDK to type nested timestamps", row["newest"])
	} else {
		checkGuards(t, out, "out of process")
	}
	checkGuards(t, map[string]any{"rows": rows, "count": out["count"]}, "out of process (no timestamps)", guards[:3]...)
}

// guards are the kinds of check a DR runbook puts on a query.
var guards = []string{
	`outputs.rows[0].users > 0`,
	`outputs.rows[0].users == 50 && outputs.count == 1`,
	`outputs.rows[0].revenue > 1500.0`,
	`outputs.rows[0].newest > ago(duration("1h"))`,
	`outputs.rows[0].newest < now()`,
}

func checkGuards(t *testing.T, out map[string]any, where string, only ...string) {
	t.Helper()
	if only == nil {
		only = guards
	}
	for _, guard := range only {
		ok, err := eval.NewPrograms(func(string) bool { return false }).Bool(guard, eval.Env{"outputs": out})
		if err != nil || !ok {
			t.Errorf("%s: guard %s = %v, %v; outputs %v", where, guard, ok, err, out)
		}
	}
}

// TestQueryGuardsInProcess: the plugin returns time.Time for timestamps,
// so `outputs.rows[0].newest > ago(duration("1h"))` holds on its outputs.
func TestQueryGuardsInProcess(t *testing.T) {
	t.Parallel()
	srv, db := pgtest.NewDatabase(t)
	seed(t, srv, db, 25)
	out, err := inProcess(t, "query", map[string]any{"url": srv.URL(db), "sql": `select count(*) as users, max(created_at) as newest,
		sum(total) as revenue from users join orders on orders.user_id = users.id`})
	if err != nil {
		t.Fatal(err)
	}
	row := out["rows"].([]any)[0].(map[string]any)
	if _, ok := row["newest"].(time.Time); !ok {
		t.Fatalf("newest = %#v (%T), want a time.Time", row["newest"], row["newest"])
	}
	checkGuards(t, out, "in process")
}

// TestQueryArgsAndLimits covers args, max_rows, read-only and bad SQL.
func TestQueryArgsAndLimits(t *testing.T) {
	t.Parallel()
	srv, db := pgtest.NewDatabase(t)
	seed(t, srv, db, 5)
	h := newHost(t, map[string]map[string]any{"postgres": {"url": srv.URL(db)}})
	out := h.must("postgres.query", map[string]any{"sql": "select email from users where id > $1 and active = $2 order by id", "args": []any{3, true}})
	if got := out["count"]; got != 2 {
		t.Fatalf("count = %v, want 2", got)
	}
	if got := out["rows"].([]any)[0].(map[string]any)["email"]; got != "user4@example.com" {
		t.Fatalf("email = %v", got)
	}
	tests := []struct {
		name   string
		inputs map[string]any
		kind   sdk.Kind
		msg    string
	}{
		{"too many rows", map[string]any{"sql": "select * from users", "max_rows": 3}, sdk.KindBadInput, "more than max_rows (3)"},
		{"read only", map[string]any{"sql": "delete from orders returning id"}, sdk.KindPermanent, "read-only transaction"},
		{"syntax", map[string]any{"sql": "selec 1"}, sdk.KindBadInput, "syntax error"},
		{"no table", map[string]any{"sql": "select * from nope"}, sdk.KindBadInput, `relation "nope" does not exist`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.run("postgres.query", tt.inputs)
			plugintest.WantKind(t, err, tt.kind)
			if !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), "postgres: query on postgres://") {
				t.Fatalf("error %q lacks %q or its context", err, tt.msg)
			}
		})
	}
	out = h.must("postgres.query", map[string]any{"sql": "delete from orders where id = 1 returning id", "read_only": false})
	if out["count"] != 1 {
		t.Fatalf("read_only: false: %v", out)
	}
}

func TestExec(t *testing.T) {
	t.Parallel()
	srv, db := pgtest.NewDatabase(t)
	seed(t, srv, db, 10)
	h := newHost(t, map[string]map[string]any{"postgres": {"url": srv.URL(db)}})
	out := h.must("postgres.exec", map[string]any{"sql": "update users set active = false where id <= $1", "args": []any{4}})
	if out["rows_affected"] != 4 || out["command"] != "UPDATE 4" {
		t.Fatalf("exec = %v", out)
	}
	out = h.must("postgres.exec", map[string]any{"sql": "create table audit (n int); insert into audit select generate_series(1, 3)", "multiple_statements": true})
	if out["rows_affected"] != 3 {
		t.Fatalf("multi-statement exec = %v", out)
	}
	// Several statements run as one implicit transaction: all or nothing.
	_, err := h.run("postgres.exec", map[string]any{"sql": "insert into audit values (4); insert into audit values ('x')", "multiple_statements": true})
	plugintest.WantKind(t, err, sdk.KindPermanent)
	out = h.must("postgres.query", map[string]any{"sql": "select count(*) as n from audit"})
	if n := out["rows"].([]any)[0].(map[string]any)["n"]; n != 3 {
		t.Fatalf("after a failed batch audit has %v rows, want 3", n)
	}
}

// TestExecOneStatement pastes a hostile param into exec's sql, as a
// templated runbook would, and checks only the one statement may run.
func TestExecOneStatement(t *testing.T) {
	t.Parallel()
	srv, db := pgtest.NewDatabase(t)
	h := newHost(t, map[string]map[string]any{"postgres": {"url": srv.URL(db)}})
	h.must("postgres.exec", map[string]any{"sql": "create table keep (v text); create table t (v text)", "multiple_statements": true})
	const name = "x'); drop table keep; --"
	for _, tc := range []struct {
		name string
		in   map[string]any
		kind sdk.Kind // "" for success
	}{
		{"pasted into the text", map[string]any{"sql": "insert into t values ('" + name + "')"}, sdk.KindBadInput},
		{"two statements, no args", map[string]any{"sql": "insert into t values ('a'); drop table keep"}, sdk.KindBadInput},
		{"multiple_statements with args", map[string]any{"sql": "insert into t values ($1)", "args": []any{name}, "multiple_statements": true}, sdk.KindBadInput},
		{"through args", map[string]any{"sql": "insert into t values ($1)", "args": []any{name}}, ""},
		{"one statement, no args", map[string]any{"sql": "insert into t values ('plain')"}, ""},
	} {
		_, err := h.run("postgres.exec", tc.in)
		if tc.kind == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		plugintest.WantKind(t, err, tc.kind)
	}
	out := h.must("postgres.query", map[string]any{"sql": "select v from t order by v"})
	if got := fmt.Sprint(out["rows"]); got != "[map[v:plain] map[v:"+name+"]]" {
		t.Fatalf("rows of t = %s", got)
	}
	h.must("postgres.query", map[string]any{"sql": "select count(*) from keep"}) // keep survived
}

func TestPingAndWaitReady(t *testing.T) {
	t.Parallel()
	srv, db := pgtest.NewDatabase(t)
	h := newHost(t, map[string]map[string]any{"postgres": {"url": srv.URL(db)}})
	out := h.must("postgres.ping", nil)
	if v, _ := out["server_version"].(string); !strings.HasPrefix(v, fmt.Sprint(srv.Version()/10000)) {
		t.Errorf("server_version = %q, server is %d", v, srv.Version())
	}
	if out["database"] != db || out["in_recovery"] != false || out["server_version_num"].(int) < 100000 {
		t.Errorf("ping = %v", out)
	}
	if l := out["latency"].(time.Duration); l <= 0 || l > 5*time.Second {
		t.Errorf("latency = %v", l)
	}
	out = h.must("postgres.wait_ready", map[string]any{"timeout": "10s"})
	if out["attempts"] != 1 {
		t.Errorf("wait_ready on a running server = %v", out)
	}
	start := time.Now()
	_, err := h.run("postgres.wait_ready", map[string]any{"url": closedURL(t, "secret"), "timeout": "1s", "interval": "100ms"})
	plugintest.WantKind(t, err, sdk.KindRetryable)
	if !strings.Contains(err.Error(), "not ready after 1s") || time.Since(start) > 5*time.Second {
		t.Fatalf("wait_ready on a closed port: %v after %s", err, time.Since(start))
	}
}

func TestCreateDatabase(t *testing.T) {
	t.Parallel()
	srv := pgtest.Start(t)
	name := fmt.Sprintf("created_%d", time.Now().UnixNano())
	t.Cleanup(func() { _ = srv.DropDatabase(t.Context(), name) })
	h := newHost(t, map[string]map[string]any{"postgres": {"url": srv.URL("postgres")}})
	in := map[string]any{"name": name, "template": "template0"}
	rec, err := h.reconcile("postgres.create_database", in, "k1")
	if err != nil || rec.State != sdk.NotApplied {
		t.Fatalf("reconcile before = %v, %v", rec, err)
	}
	if out := h.must("postgres.create_database", in); out["created"] != true || out["name"] != name {
		t.Fatalf("first create = %v", out)
	}
	if out := h.must("postgres.create_database", in); out["created"] != false {
		t.Fatalf("second create = %v", out)
	}
	rec, err = h.reconcile("postgres.create_database", in, "k1")
	if err != nil || rec.State != sdk.Applied || rec.Outputs["name"] != name {
		t.Fatalf("reconcile after = %v, %v", rec, err)
	}
	_, err = h.run("postgres.create_database", map[string]any{"name": name + "_x", "owner": "no_such_role"})
	plugintest.WantKind(t, err, sdk.KindBadInput)
}

// TestUnreachable: a refused connection is retryable for every action, and
// the password never shows, neither in errors nor in the log.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	const canary = "Canary-Pa55word-7f3e"
	h := newHost(t, nil)
	url := closedURL(t, canary)
	for _, tt := range []struct {
		action string
		inputs map[string]any
	}{
		{"query", map[string]any{"sql": "select 1"}},
		{"exec", map[string]any{"sql": "select 1"}},
		{"ping", nil},
		{"create_database", map[string]any{"name": "x"}},
		{"restore_dump", map[string]any{"file": writeFile(t, "x.sql", "select 1;\n-- PostgreSQL database dump complete\n")}},
	} {
		t.Run(tt.action, func(t *testing.T) {
			in := map[string]any{"url": url}
			for k, v := range tt.inputs {
				in[k] = v
			}
			_, err := h.run("postgres."+tt.action, in)
			plugintest.WantKind(t, err, sdk.KindRetryable)
			if strings.Contains(err.Error(), canary) || !strings.Contains(err.Error(), "connection refused") {
				t.Fatalf("error = %v", err)
			}
		})
	}
	if strings.Contains(h.allLogs(), canary) {
		t.Fatalf("the log shows the password:\n%s", h.allLogs())
	}
}

// TestPasswordNeverShown runs failing actions against a real server with a
// canary password (the test server trusts local connections, so any
// password gets in), in-process too, where no SDK masks anything.
func TestPasswordNeverShown(t *testing.T) {
	t.Parallel()
	const canary = "Canary@Pa55:word/7f3e"
	srv, db := pgtest.NewDatabase(t)
	url := strings.Replace(srv.URL(db), "@", ":"+strings.NewReplacer("@", "%40", ":", "%3A", "/", "%2F").Replace(canary)+"@", 1)
	h := newHost(t, map[string]map[string]any{"postgres": {"url": url}})
	bad := writeFile(t, "bad.sql", "create table t (n int);\nselect 1/0;\n-- PostgreSQL database dump complete\n")
	cases := []struct {
		action string
		inputs map[string]any
	}{
		{"query", map[string]any{"sql": "select 1/0"}},
		{"exec", map[string]any{"sql": "select * from nope"}},
		{"restore_dump", map[string]any{"file": bad}},
		{"restore_dump", map[string]any{"file": bad, "url": strings.Replace(url, "/"+db, "/no_such_db", 1)}},
	}
	for _, c := range cases {
		_, err := h.run("postgres."+c.action, c.inputs)
		if err == nil {
			t.Fatalf("%s succeeded", c.action)
		}
		for _, form := range []string{canary, "Canary%40Pa55", "Pa55%3Aword"} {
			if strings.Contains(err.Error(), form) {
				t.Fatalf("%s error shows the password: %v", c.action, err)
			}
		}
		t.Logf("%s: %v", c.action, err)
		// In-process: only the plugin's own masking stands between the password and the message.
		_, err = inProcess(t, c.action, withURL(c.inputs, url))
		if err == nil || strings.Contains(err.Error(), canary) || strings.Contains(err.Error(), "Canary%40Pa55") {
			t.Fatalf("in-process %s error shows the password: %v", c.action, err)
		}
	}
	if logs := h.allLogs(); strings.Contains(logs, canary) {
		t.Fatalf("the log shows the password:\n%s", logs)
	}
}

// closedURL returns a URL of a port nothing listens on.
func closedURL(t *testing.T, password string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return fmt.Sprintf("postgres://app:%s@%s/appdb?sslmode=disable", password, addr)
}
