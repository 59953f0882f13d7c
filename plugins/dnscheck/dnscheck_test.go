package dnscheck

import (
	"context"
	"fmt"
	"maps"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/dnscheck/dnsserver"
	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// The test binary serves the plugin when the host re-executes it, so every
// action test below goes through a real plugin process.
func TestMain(m *testing.M) {
	plugintest.ServeOrRun(m, map[string]func() sdk.Plugin{Name: New})
}

var testCatalog = catalog.MustNew(Spec)

// zone is the local DNS server's data in every test: the state after a
// failover to Frankfurt.
var zone = map[string][]string{
	"api.alpha-orion.com CNAME":             {"user-api-frankfurt.onrender.com"},
	"user-api-frankfurt.onrender.com":       {"203.0.113.10", "203.0.113.11", "2001:db8::10"},
	"alpha-orion.com TXT":                   {"v=spf1 -all"},
	"only-v4.alpha-orion.com":               {"198.51.100.7"},
	"status.alpha-orion.com A":              {"198.51.100.8"},
	"user-api-oregon.onrender.com":          {"192.0.2.1"},
	"legacy.alpha-orion.com CNAME":          {"user-api-oregon.onrender.com."},
	"mixed-case.alpha-orion.com CNAME":      {"User-API-Frankfurt.onrender.com"},
	"txt-long.alpha-orion.com TXT":          {strings.Repeat("x", 300)},
	"another-name.alpha-orion.com A":        {"198.51.100.9"},
	"another-name.alpha-orion.com AAAA":     {"2001:db8::9"},
	"another-name.alpha-orion.com TXT":      {"hello", "world"},
	"empty-but-known.alpha-orion.com CNAME": {"status.alpha-orion.com"},
	"deep.alpha-orion.com CNAME":            {"empty-but-known.alpha-orion.com"},
}

// fixture is a local DNS server and a plugin process configured to ask it.
// check calls the manager itself, not Harness.Exec: TestCheck calls it from
// parallel subtests, and the harness reports to the test that started it.
type fixture struct {
	*plugintest.Harness
	srv *dnsserver.Server
}

func newFixture(t *testing.T, cfg map[string]any) *fixture {
	t.Helper()
	srv, err := dnsserver.Start("127.0.0.1:0", zone)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	conf := map[string]any{"resolver": srv.Addr(), "timeout": "2s"}
	maps.Copy(conf, cfg)
	h := plugintest.Start(t, plugintest.Options{Name: Name, Catalog: testCatalog, Config: conf})
	return &fixture{Harness: h, srv: srv}
}

func (f *fixture) check(t *testing.T, in map[string]any) (map[string]any, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return f.Mgr.Execute(ctx, Name, sdk.Request{RunID: "r1", StepID: "verify", Action: "check", Inputs: in, Attempt: 1}, nil)
}

func TestCheck(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	tests := []struct {
		name    string
		in      map[string]any
		records []any
		matched bool
		kind    sdk.Kind // "" means success
		msg     []string
	}{
		{"cname exact", map[string]any{"name": "api.alpha-orion.com", "type": "CNAME", "expect": "user-api-frankfurt.onrender.com"},
			[]any{"user-api-frankfurt.onrender.com"}, true, "", nil},
		{"cname trailing dot and case", map[string]any{"name": "API.alpha-orion.com.", "type": "cname", "expect": []any{"USER-api-frankfurt.onrender.com."}},
			[]any{"user-api-frankfurt.onrender.com"}, true, "", nil},
		{"a through the cname, as a set", map[string]any{"name": "api.alpha-orion.com", "expect": []any{"203.0.113.11", "203.0.113.10", "203.0.113.10"}},
			[]any{"203.0.113.10", "203.0.113.11"}, true, "", nil},
		{"a contains", map[string]any{"name": "api.alpha-orion.com", "expect_contains": "203.0.113.11"},
			[]any{"203.0.113.10", "203.0.113.11"}, true, "", nil},
		{"aaaa", map[string]any{"name": "api.alpha-orion.com", "type": "AAAA", "expect": "2001:0db8:0:0::10"},
			[]any{"2001:db8::10"}, true, "", nil},
		{"txt", map[string]any{"name": "alpha-orion.com", "type": "TXT", "expect_contains": []any{"v=spf1 -all"}},
			[]any{"v=spf1 -all"}, true, "", nil},
		{"long txt joined", map[string]any{"name": "txt-long.alpha-orion.com", "type": "TXT"},
			[]any{strings.Repeat("x", 300)}, true, "", nil},
		{"cname chain", map[string]any{"name": "deep.alpha-orion.com", "expect": "198.51.100.8"},
			[]any{"198.51.100.8"}, true, "", nil},
		{"cname stored in mixed case", map[string]any{"name": "mixed-case.alpha-orion.com", "type": "CNAME", "expect": "user-api-frankfurt.onrender.com"},
			[]any{"user-api-frankfurt.onrender.com"}, true, "", nil},
		{"several txt", map[string]any{"name": "another-name.alpha-orion.com", "type": "TXT", "expect": []any{"world", "hello"}},
			[]any{"hello", "world"}, true, "", nil},
		{"no expectation, records present", map[string]any{"name": "status.alpha-orion.com"},
			[]any{"198.51.100.8"}, true, "", nil},
		{"still on oregon", map[string]any{"name": "legacy.alpha-orion.com", "type": "CNAME", "expect": "user-api-frankfurt.onrender.com"},
			nil, false, sdk.KindRetryable, []string{"legacy.alpha-orion.com CNAME via 127.0.0.1:", "expected [user-api-frankfurt.onrender.com], got [user-api-oregon.onrender.com]"}},
		{"set differs", map[string]any{"name": "api.alpha-orion.com", "expect": "203.0.113.10"},
			nil, false, sdk.KindRetryable, []string{"expected [203.0.113.10], got [203.0.113.10, 203.0.113.11]"}},
		{"contains missing", map[string]any{"name": "api.alpha-orion.com", "expect_contains": []any{"203.0.113.10", "203.0.113.99"}},
			nil, false, sdk.KindRetryable, []string{"expected to contain [203.0.113.99]"}},
		{"mismatch reported, not failed", map[string]any{"name": "legacy.alpha-orion.com", "type": "CNAME", "expect": "x.onrender.com", "fail_on_mismatch": false},
			[]any{"user-api-oregon.onrender.com"}, false, "", nil},
		{"no records of the type", map[string]any{"name": "only-v4.alpha-orion.com", "type": "AAAA"},
			nil, false, sdk.KindRetryable, []string{"only-v4.alpha-orion.com AAAA", "no AAAA records"}},
		{"empty expected set holds for no records", map[string]any{"name": "only-v4.alpha-orion.com", "type": "AAAA", "expect": []any{}},
			[]any{}, true, "", nil},
		{"nxdomain", map[string]any{"name": "nope.alpha-orion.com"},
			nil, false, sdk.KindRetryable, []string{"nope.alpha-orion.com A via 127.0.0.1:", "NXDOMAIN"}},
		{"bad type", map[string]any{"name": "api.alpha-orion.com", "type": "MX"},
			nil, false, sdk.KindBadInput, []string{`type "MX"`}},
		{"bad name", map[string]any{"name": "bad..name"},
			nil, false, sdk.KindBadInput, []string{"not a domain name"}},
		{"bad expected address", map[string]any{"name": "api.alpha-orion.com", "expect": "not-an-ip"},
			nil, false, sdk.KindBadInput, []string{`"not-an-ip" is not an A record's address`}},
		{"expect of the wrong shape", map[string]any{"name": "api.alpha-orion.com", "expect": map[string]any{"a": "b"}},
			nil, false, sdk.KindBadInput, []string{"expect must be a string or a list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := f.check(t, tt.in)
			if tt.kind != "" {
				plugintest.WantKind(t, err, tt.kind, tt.msg...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(out["records"]); got != fmt.Sprint(tt.records) {
				t.Errorf("records = %s, want %s", got, fmt.Sprint(tt.records))
			}
			if got := out["matched"]; got != tt.matched {
				t.Errorf("matched = %v, want %v", got, tt.matched)
			}
			if got, want := out["rcode"], "NOERROR"; got != want {
				t.Errorf("rcode = %v, want %v", got, want)
			}
			if got, want := out["resolver"], f.srv.Addr(); got != want {
				t.Errorf("resolver = %v, want %v", got, want)
			}
			if len(tt.records) > 0 && out["ttl"] != dnsserver.DefaultTTL {
				t.Errorf("ttl = %v, want %d", out["ttl"], dnsserver.DefaultTTL)
			}
		})
	}
}

// TestPollsUntilDNSCatchesUp drives two attempts of one step, as a retry
// would: the first sees the old record and fails as retryable, the second
// sees the record the failover wrote.
func TestPollsUntilDNSCatchesUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	in := map[string]any{"name": "legacy.alpha-orion.com", "type": "CNAME", "expect": "user-api-frankfurt.onrender.com"}
	_, err := f.check(t, in)
	if sdk.KindOf(err) != sdk.KindRetryable {
		t.Fatalf("first attempt: err %v (kind %q), want a retryable mismatch", err, sdk.KindOf(err))
	}
	if err := f.srv.Set("legacy.alpha-orion.com", "CNAME", []string{"user-api-frankfurt.onrender.com"}); err != nil {
		t.Fatal(err)
	}
	f.srv.SetTTL(30)
	out, err := f.check(t, in)
	if err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	if out["matched"] != true || out["ttl"] != 30 {
		t.Fatalf("outputs = %v, want matched with ttl 30", out)
	}
}

// TestResolverOverride asks another server than the configured one.
func TestResolverOverride(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	other, err := dnsserver.Start("127.0.0.1:0", map[string][]string{"api.alpha-orion.com": {"192.0.2.55"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	out, err := f.check(t, map[string]any{"name": "api.alpha-orion.com", "resolver": other.Addr(), "expect": "192.0.2.55"})
	if err != nil {
		t.Fatal(err)
	}
	if out["resolver"] != other.Addr() {
		t.Fatalf("resolver = %v, want %v", out["resolver"], other.Addr())
	}
}

// TestResolverDown checks a server that does not answer: a retryable error
// naming the resolver, within the configured timeout.
func TestResolverDown(t *testing.T) {
	t.Parallel()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	f := newFixture(t, map[string]any{"resolver": addr, "timeout": "500ms"})
	start := time.Now()
	_, err = f.check(t, map[string]any{"name": "api.alpha-orion.com"})
	if sdk.KindOf(err) != sdk.KindRetryable {
		t.Fatalf("err %v (kind %q), want retryable", err, sdk.KindOf(err))
	}
	if !strings.Contains(err.Error(), "via "+addr) {
		t.Fatalf("error %q does not name the resolver %s", err, addr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s, want about the 500ms timeout", d)
	}
}

func TestConfigure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg  map[string]any
		want string // "" means success
	}{
		{map[string]any{"resolver": "127.0.0.1"}, ""},
		{map[string]any{"resolver": "[::1]:5353"}, ""},
		{map[string]any{"resolver": "udp://x/y"}, "not host:port"},
		{map[string]any{"resolver": "127.0.0.1:99999"}, "not host:port"},
		{map[string]any{"timeout": -time.Second}, "timeout must be positive"},
	}
	for _, tt := range tests {
		err := New().Configure(context.Background(), tt.cfg)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Configure(%v): %v", tt.cfg, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Configure(%v) = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestPlanAndReconcile(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := context.Background()
	req := sdk.Request{RunID: "r1", StepID: "verify", Action: "check", IdempotencyKey: "k",
		Inputs: map[string]any{"name": "api.alpha-orion.com", "type": "CNAME", "expect": "user-api-frankfurt.onrender.com"}}
	plan, err := f.Mgr.Plan(ctx, Name, req)
	if err != nil {
		t.Fatal(err)
	}
	want := "would look up api.alpha-orion.com CNAME via " + f.srv.Addr() + ", expect [user-api-frankfurt.onrender.com]"
	if plan.Summary != want {
		t.Fatalf("plan = %q, want %q", plan.Summary, want)
	}
	rec, err := f.Mgr.Reconcile(ctx, Name, req)
	if err != nil || rec.State != sdk.NotApplied {
		t.Fatalf("Reconcile = %v, %v; want not_applied", rec.State, err)
	}
}

func TestExampleRunbookLints(t *testing.T) {
	t.Parallel()
	plugintest.LintsClean(t, testCatalog, "testdata/verify-dns.yaml")
}
