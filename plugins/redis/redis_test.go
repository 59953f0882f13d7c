package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/internal/redisserver"
	"github.com/alpha-orion/runbook/internal/redisserver/redistest"
	"github.com/alpha-orion/runbook/plugins/host"
	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/postgres"
	"github.com/alpha-orion/runbook/plugins/sdk"
	goredis "github.com/redis/go-redis/v9"
)

// The test binary serves the plugin when the host re-executes it, so every
// action test below goes through a real plugin process.
func TestMain(m *testing.M) {
	plugintest.ServeOrRun(m, map[string]func() sdk.Plugin{Name: New})
}

var testCatalog = catalog.MustNew(Spec)

// canary is the server's password: it must never appear in an error or a log line.
const canary = "redis-canary-93be-must-not-leak"

// fixture is a real redis-server with a password, a direct client to
// seed and inspect it, and a plugin process configured for it.
type fixture struct {
	t    *testing.T
	h    *plugintest.Harness
	srv  *redisserver.Server
	rdb  *goredis.Client
	mgr  *host.Manager
	mu   sync.Mutex
	logs []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := redistest.StartWith(t, redisserver.Options{Password: canary})
	opts, err := goredis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := goredis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	h := plugintest.Start(t, plugintest.Options{Name: Name, Catalog: testCatalog, Config: map[string]any{"url": srv.URL()}})
	return &fixture{t: t, h: h, srv: srv, rdb: rdb, mgr: h.Mgr}
}

// manager starts another plugin process, configured with cfg over the
// fixture's url.
func (f *fixture) manager(cfg map[string]any) *host.Manager {
	return f.h.Manager(cfg)
}

func (f *fixture) exec(mgr *host.Manager, action string, in map[string]any) (map[string]any, error) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return mgr.Execute(ctx, Name, sdk.Request{RunID: "r1", StepID: "cache", Action: action, Inputs: in, IdempotencyKey: "r1/cache", Attempt: 1}, func(l sdk.LogLine) {
		f.mu.Lock()
		f.logs = append(f.logs, l.Message)
		f.mu.Unlock()
	})
}

func (f *fixture) run(action string, in map[string]any) (map[string]any, error) {
	f.t.Helper()
	return f.exec(f.mgr, action, in)
}

// seed writes n keys named prefix0…prefix(n-1) in one pipeline.
func (f *fixture) seed(prefix string, n int) {
	f.t.Helper()
	pipe := f.rdb.Pipeline()
	for i := range n {
		pipe.Set(context.Background(), fmt.Sprintf("%s%d", prefix, i), "v", 0)
	}
	if _, err := pipe.Exec(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) count(pattern string) int {
	f.t.Helper()
	n := 0
	iter := f.rdb.Scan(context.Background(), 0, pattern, 1000).Iterator()
	for iter.Next(context.Background()) {
		n++
	}
	if err := iter.Err(); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *fixture) noLeak(err error) {
	f.t.Helper()
	f.mu.Lock()
	logs := strings.Join(f.logs, "\n")
	f.mu.Unlock()
	if err != nil && strings.Contains(err.Error(), canary) {
		f.t.Fatalf("error shows the password: %v", err)
	}
	if strings.Contains(logs, canary) {
		f.t.Fatalf("a log line shows the password:\n%s", logs)
	}
}

func TestPingAndGet(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	out, err := f.run("ping", nil)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := out["latency"].(time.Duration); !ok || d <= 0 {
		t.Fatalf("latency = %v", out["latency"])
	}
	ctx := context.Background()
	f.rdb.Set(ctx, "feature:flags", `{"maintenance":true}`, time.Hour)
	f.rdb.Set(ctx, "plain", "x", 0)
	f.rdb.HSet(ctx, "a-hash", "f", "v")
	tests := []struct {
		key    string
		value  string
		exists bool
		ttl    bool
		kind   sdk.Kind
	}{
		{"feature:flags", `{"maintenance":true}`, true, true, ""},
		{"plain", "x", true, false, ""},
		{"missing", "", false, false, ""},
		{"a-hash", "", false, false, sdk.KindPermanent},
	}
	for _, tt := range tests {
		out, err := f.run("get", map[string]any{"key": tt.key})
		if tt.kind != "" {
			if sdk.KindOf(err) != tt.kind || !strings.Contains(err.Error(), "WRONGTYPE") || !strings.Contains(err.Error(), "get a-hash on "+f.srv.Addr()) {
				t.Errorf("get %s: err %v (kind %q), want %s naming the key, the server and WRONGTYPE", tt.key, err, sdk.KindOf(err), tt.kind)
			}
			continue
		}
		if err != nil {
			t.Fatalf("get %s: %v", tt.key, err)
		}
		ttl := out["ttl"].(time.Duration)
		if out["value"] != tt.value || out["exists"] != tt.exists || (ttl > 0) != tt.ttl || ttl > time.Hour {
			t.Errorf("get %s = %v", tt.key, out)
		}
	}
	f.noLeak(nil)
}

func TestDeletePattern(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.seed("cache:page:", 2300)
	f.seed("cache:config:", 5)
	f.seed("session:", 40)
	in := map[string]any{"pattern": "cache:*", "exclude": []any{"cache:config:*"}, "count": 200, "dry_run": true}

	out, err := f.run("delete_pattern", in)
	if err != nil {
		t.Fatal(err)
	}
	if out["deleted"] != 2300 || out["dry_run"] != true || len(out["sample"].([]any)) != sampleSize {
		t.Fatalf("dry run = %v, want 2300 keys and a sample of %d", out, sampleSize)
	}
	if n := f.count("cache:*"); n != 2305 {
		t.Fatalf("dry run deleted keys: %d cache keys left, want 2305", n)
	}

	plan, err := f.mgr.Plan(context.Background(), Name, sdk.Request{Action: "delete_pattern", Inputs: in})
	if err != nil {
		t.Fatal(err)
	}
	if want := "would delete 2300 keys matching cache:* except cache:config:* on " + f.srv.Addr(); plan.Summary != want {
		t.Fatalf("plan = %q, want %q", plan.Summary, want)
	}

	in["dry_run"] = false
	out, err = f.run("delete_pattern", in)
	if err != nil {
		t.Fatal(err)
	}
	if out["deleted"] != 2300 || out["dry_run"] != false {
		t.Fatalf("delete = %v, want 2300 deleted", out)
	}
	if a, b, c := f.count("cache:page:*"), f.count("cache:config:*"), f.count("session:*"); a != 0 || b != 5 || c != 40 {
		t.Fatalf("left %d page, %d config, %d session keys; want 0, 5, 40", a, b, c)
	}
	// Idempotent: a second run finds nothing more to delete.
	out, err = f.run("delete_pattern", in)
	if err != nil || out["deleted"] != 0 {
		t.Fatalf("second run = %v, %v; want 0 deleted", out, err)
	}
	_, err = f.run("delete_pattern", map[string]any{"pattern": " "})
	if sdk.KindOf(err) != sdk.KindBadInput {
		t.Fatalf("empty pattern: err %v, want bad input", err)
	}
	f.noLeak(nil)
}

// TestGlobMatchesServer checks globMatch, used for exclude, against the
// server's own MATCH on the same keys and patterns.
func TestGlobMatchesServer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	keys := []string{"cache:a", "cache:ab", "cache:config:x", "cache:[x]", `cache:\`, "user:1", "user:12", "user:a", "Cache:A", "c?x", "c*x", "", "x-y"}
	ctx := context.Background()
	for _, k := range keys {
		if k != "" {
			f.rdb.Set(ctx, k, "v", 0)
		}
	}
	patterns := []string{"*", "cache:*", "cache:?", "cache:??", "user:[0-9]", "user:[^0-9]*", "user:[a1]*", `c\?x`, `c\*x`, "c?x", "*:*:*", "cache:[[]*", `cache:\\`, "[cu]*", "[c-d]ache:*", "*x", "x-[a-z]", "[]"}
	for _, pat := range patterns {
		var want []string
		iter := f.rdb.Scan(ctx, 0, pat, 1000).Iterator()
		for iter.Next(ctx) {
			want = append(want, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, k := range keys {
			if k != "" && globMatch(pat, k) {
				got = append(got, k)
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("pattern %q: globMatch %q, server %q", pat, got, want)
		}
	}
}

func TestSetFromRows(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	created := time.Date(2024, 5, 20, 10, 0, 0, 0, time.UTC)
	var rows []any
	for i := 1; i <= 1203; i++ {
		rows = append(rows, map[string]any{"id": i, "email": fmt.Sprintf("u%d@alpha-orion.com", i), "plan": "pro", "score": 1.5, "created_at": created, "note": nil})
	}
	out, err := f.run("set_from_rows", map[string]any{"rows": rows, "key_template": "user:{id}", "ttl": "1h"})
	if err != nil {
		t.Fatal(err)
	}
	if out["written"] != 1203 {
		t.Fatalf("written = %v, want 1203", out["written"])
	}
	ctx := context.Background()
	var got map[string]any
	if err := json.Unmarshal([]byte(f.rdb.Get(ctx, "user:1203").Val()), &got); err != nil {
		t.Fatal(err)
	}
	if got["email"] != "u1203@alpha-orion.com" || got["id"] != 1203.0 || got["note"] != nil || got["created_at"] != "2024-05-20T10:00:00Z" {
		t.Fatalf("user:1203 = %v", got)
	}
	if ttl := f.rdb.TTL(ctx, "user:1").Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("ttl of user:1 = %s, want up to 1h", ttl)
	}
	// Idempotent: the same rows again write the same keys.
	if out, err := f.run("set_from_rows", map[string]any{"rows": rows, "key_template": "user:{id}"}); err != nil || out["written"] != 1203 {
		t.Fatalf("second run = %v, %v", out, err)
	}
	if n := f.count("user:*"); n != 1203 {
		t.Fatalf("%d user keys, want 1203", n)
	}

	out, err = f.run("set_from_rows", map[string]any{"rows": rows[:2], "key_column": "email", "value_column": "plan"})
	if err != nil || out["written"] != 2 {
		t.Fatalf("key_column: %v, %v", out, err)
	}
	if v := f.rdb.Get(ctx, "u2@alpha-orion.com").Val(); v != "pro" {
		t.Fatalf("u2@alpha-orion.com = %q, want pro", v)
	}
	if out, err := f.run("set_from_rows", map[string]any{"rows": []any{}, "key_template": "user:{id}"}); err != nil || out["written"] != 0 {
		t.Fatalf("no rows: %v, %v", out, err)
	}

	plan, err := f.mgr.Plan(ctx, Name, sdk.Request{Action: "set_from_rows", Inputs: map[string]any{"rows": rows[:3], "key_template": "user:{id}:{plan}", "ttl": "24h"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "would write 3 keys on " + f.srv.Addr() + " (first user:1:pro), expiring after 24h0m0s"; plan.Summary != want {
		t.Fatalf("plan = %q, want %q", plan.Summary, want)
	}
}

func TestSetFromRowsBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rows := []any{map[string]any{"id": 1, "email": "a@x"}, map[string]any{"id": nil, "email": "b@x"}}
	tests := []struct {
		in   map[string]any
		want string
	}{
		{map[string]any{"rows": rows}, "needs key_template"},
		{map[string]any{"rows": rows, "key_template": "u:{id}", "key_column": "id"}, "not both"},
		{map[string]any{"rows": rows, "key_template": "users"}, "names no {column}"},
		{map[string]any{"rows": rows, "key_template": "u:{id"}, "unclosed {"},
		{map[string]any{"rows": rows, "key_template": "u:{uid}"}, `rows[0]: no column "uid" (key_template); columns: email, id`},
		{map[string]any{"rows": rows, "key_template": "u:{id}"}, `rows[1]: column "id" is null`},
		{map[string]any{"rows": rows[:1], "key_template": "u:{id}", "value_column": "name"}, `rows[0] (key u:1): no column "name" (value_column)`},
		{map[string]any{"rows": []any{"x"}, "key_column": "id"}, "rows[0] is not a map"},
	}
	for _, tt := range tests {
		_, err := f.run("set_from_rows", tt.in)
		if sdk.KindOf(err) != sdk.KindBadInput || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err %v, want bad input saying %q", tt.in, err, tt.want)
		}
	}
	if n := f.count("*"); n != 0 {
		t.Fatalf("bad inputs wrote %d keys", n)
	}
}

// TestFaults covers what goes wrong with the server: each a clear error
// of the right kind, naming the server by host:port and never the password.
func TestFaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	tests := []struct {
		name string
		url  string
		kind sdk.Kind
		msg  []string
	}{
		{"wrong password", f.srv.URLWithPassword("wrong-" + canary), sdk.KindUnauthenticated, []string{"redis: ping on " + f.srv.Addr(), "WRONGPASS"}},
		{"no password", f.srv.URLWithPassword(""), sdk.KindUnauthenticated, []string{"NOAUTH"}},
		{"connection refused", "redis://default:" + canary + "@" + closed + "/0", sdk.KindRetryable, []string{"redis: ping on " + closed, "connection refused"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mgr := f.manager(map[string]any{"url": tt.url, "timeout": "2s"})
			_, err := f.exec(mgr, "ping", nil)
			if sdk.KindOf(err) != tt.kind {
				t.Fatalf("err %v (kind %q), want %q", err, sdk.KindOf(err), tt.kind)
			}
			for _, m := range tt.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not say %q", err, m)
				}
			}
			f.noLeak(err)
		})
	}
}

func TestBadURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://default:" + canary + "@host:1", "redis://default:" + canary + "@", "redis://default:" + canary + "@h:1/x y"} {
		err := New().Configure(context.Background(), map[string]any{"url": u})
		if sdk.KindOf(err) != sdk.KindBadInput || strings.Contains(err.Error(), canary) {
			t.Errorf("Configure(%q) = %v, want bad input without the password", u, err)
		}
	}
	err := New().Configure(context.Background(), map[string]any{"url": "redis://h:1", "tls_insecure_skip_verify": true})
	if sdk.KindOf(err) != sdk.KindBadInput {
		t.Errorf("insecure TLS on redis://: %v, want bad input", err)
	}
}

// TestTLS talks to a TLS-only server with a self-signed certificate, as a
// drill would: refused unless tls_insecure_skip_verify is set.
func TestTLS(t *testing.T) {
	t.Parallel()
	srv := redistest.StartWith(t, redisserver.Options{TLS: true, Password: canary})
	f := &fixture{t: t, h: plugintest.Start(t, plugintest.Options{Name: Name, Catalog: testCatalog}), srv: srv}
	_, err := f.exec(f.manager(map[string]any{"url": srv.URL()}), "ping", nil)
	if sdk.KindOf(err) != sdk.KindPermanent || !strings.Contains(err.Error(), "tls_insecure_skip_verify") {
		t.Fatalf("err %v (kind %q), want a permanent certificate error with a hint", err, sdk.KindOf(err))
	}
	out, err := f.exec(f.manager(map[string]any{"url": srv.URL(), "tls_insecure_skip_verify": true}), "ping", nil)
	if err != nil || out["latency"].(time.Duration) <= 0 {
		t.Fatalf("ping over TLS: %v, %v", out, err)
	}
	f.noLeak(err)
}

func TestExampleRunbookLints(t *testing.T) {
	t.Parallel()
	plugintest.LintsClean(t, catalog.MustNew(Spec, postgres.Spec), "testdata/cache-recovery.yaml")
}
