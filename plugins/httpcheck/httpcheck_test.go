package httpcheck

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// The test binary serves the plugin when the host re-executes it, so every
// action test below goes through a real plugin process.
func TestMain(m *testing.M) {
	plugintest.ServeOrRun(m, map[string]func() sdk.Plugin{Name: New})
}

var testCatalog = catalog.MustNew(Spec)

// canary is a secret header value: it must never appear in an error or a log line.
const canary = "http-canary-4f1d-must-not-leak"

// service is a stand-in for user-api-service: it answers 503 on /health
// until it is marked healthy.
type service struct {
	*httptest.Server
	healthy atomic.Bool
	hits    atomic.Int64
}

func newService(t *testing.T, tls bool) *service {
	t.Helper()
	s := &service{}
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if !s.healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, "upstream warming up\n  try again later")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status": "ok", "region": "frankfurt"}`)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Set-Cookie", "session="+canary)
		_ = json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "auth": r.Header.Get("Authorization"), "x": r.Header.Get("X-Drill"), "host": r.Host, "body": string(b)})
	})
	mux.HandleFunc("/denied", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "token %s refused", r.Header.Get("Authorization"))
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, strings.Repeat("x", MaxBody+100))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/health", http.StatusFound)
	})
	mux.HandleFunc("/created", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	if tls {
		s.Server = httptest.NewTLSServer(mux)
	} else {
		s.Server = httptest.NewServer(mux)
	}
	t.Cleanup(s.Close)
	return s
}

// fixture is a plugin process with the given configuration. check calls
// the manager itself, not Harness.Exec: TestCheck calls it from parallel
// subtests, and the harness reports to the test that started it.
type fixture struct {
	*plugintest.Harness
	mu   sync.Mutex
	logs []string
}

func newFixture(t *testing.T, cfg map[string]any) *fixture {
	t.Helper()
	return &fixture{Harness: plugintest.Start(t, plugintest.Options{Name: Name, Catalog: testCatalog, Config: cfg})}
}

func (f *fixture) check(t *testing.T, in map[string]any) (map[string]any, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return f.Mgr.Execute(ctx, Name, sdk.Request{RunID: "r1", StepID: "health", Action: "check", Inputs: in, Attempt: 1}, func(l sdk.LogLine) {
		f.mu.Lock()
		f.logs = append(f.logs, l.Message)
		f.mu.Unlock()
	})
}

func (f *fixture) logText() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.logs, "\n")
}

func TestCheck(t *testing.T) {
	t.Parallel()
	svc := newService(t, false)
	svc.healthy.Store(true)
	f := newFixture(t, map[string]any{"base_url": svc.URL})
	tests := []struct {
		name   string
		in     map[string]any
		status int
		kind   sdk.Kind // "" means success
		msg    []string
	}{
		{"default expects 200", map[string]any{"url": svc.URL + "/health"}, 200, "", nil},
		{"relative to base_url", map[string]any{"url": "/health", "expect_body": `"status": "ok"`}, 200, "", nil},
		{"regex", map[string]any{"url": "/health", "expect_body_regex": `"region":\s*"frank`}, 200, "", nil},
		{"status list", map[string]any{"url": "/created", "method": "post", "expect_status": []any{200, 201}}, 201, "", nil},
		{"status class", map[string]any{"url": "/created", "expect_status": "2xx"}, 201, "", nil},
		{"any status", map[string]any{"url": "/denied", "expect_status": "any"}, 401, "", nil},
		{"redirect followed", map[string]any{"url": "/moved"}, 200, "", nil},
		{"redirect not followed", map[string]any{"url": "/moved", "follow_redirects": false, "expect_status": 302}, 302, "", nil},
		{"wrong status", map[string]any{"url": "/created"}, 0, sdk.KindRetryable,
			[]string{"expected status 200, got 201 from GET " + svc.URL + "/created"}},
		{"body lacks text", map[string]any{"url": "/health", "expect_body": "oregon"}, 0, sdk.KindRetryable,
			[]string{`expected the body to contain "oregon" from GET`, `body: "{\"status\": \"ok\"`}},
		{"body does not match", map[string]any{"url": "/health", "expect_body_regex": "^oregon"}, 0, sdk.KindRetryable,
			[]string{"expected the body to match /^oregon/"}},
		{"bad regex", map[string]any{"url": "/health", "expect_body_regex": "("}, 0, sdk.KindBadInput, []string{"expect_body_regex"}},
		{"bad status", map[string]any{"url": "/health", "expect_status": "ok"}, 0, sdk.KindBadInput, []string{`"ok" is not a status code`}},
		{"status out of range", map[string]any{"url": "/health", "expect_status": 42}, 0, sdk.KindBadInput, []string{"42 is not a status code"}},
		{"not http", map[string]any{"url": "ftp://example.com/x"}, 0, sdk.KindBadInput, []string{"not an http(s) URL"}},
		{"timeout", map[string]any{"url": "/slow", "timeout": "200ms"}, 0, sdk.KindRetryable, []string{"GET " + svc.URL + "/slow: no answer within 200ms"}},
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
			if out["status"] != tt.status {
				t.Errorf("status = %v, want %d", out["status"], tt.status)
			}
			if d, ok := out["latency"].(time.Duration); !ok || d <= 0 {
				t.Errorf("latency = %v, want a positive duration", out["latency"])
			}
		})
	}
}

// TestPollsUntilHealthy drives two attempts of one step, as a retry would:
// the service answers 503 first, then 200.
func TestPollsUntilHealthy(t *testing.T) {
	t.Parallel()
	svc := newService(t, false)
	f := newFixture(t, nil)
	in := map[string]any{"url": svc.URL + "/health", "expect_body": "ok"}
	_, err := f.check(t, in)
	if sdk.KindOf(err) != sdk.KindRetryable {
		t.Fatalf("first attempt: err %v (kind %q), want retryable", err, sdk.KindOf(err))
	}
	want := `http: expected status 200, got 503 from GET ` + svc.URL + `/health (status 503, body: "upstream warming up try again later")`
	if err.Error() != want {
		t.Fatalf("error:\n got %s\nwant %s", err, want)
	}
	svc.healthy.Store(true)
	out, err := f.check(t, in)
	if err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	if out["status"] != 200 || !strings.Contains(out["body"].(string), `"ok"`) {
		t.Fatalf("outputs = %v", out)
	}
	if got := out["headers"].(map[string]any)["Content-Type"]; got != "application/json" {
		t.Fatalf("Content-Type header = %v", got)
	}
	if svc.hits.Load() != 2 {
		t.Fatalf("service saw %d requests, want 2", svc.hits.Load())
	}
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	f := newFixture(t, nil)
	_, err = f.check(t, map[string]any{"url": "http://" + addr + "/health"})
	if sdk.KindOf(err) != sdk.KindRetryable {
		t.Fatalf("err %v (kind %q), want retryable", err, sdk.KindOf(err))
	}
	if !strings.Contains(err.Error(), "GET http://"+addr+"/health") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("error %q does not name the request and the refusal", err)
	}
}

// TestSecretsNeverLeak sends a secret header to an endpoint that echoes it
// back in a failure, and a password in the URL: neither may reach an
// error, a log line or the outputs.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	svc := newService(t, false)
	f := newFixture(t, nil)
	_, err := f.check(t, map[string]any{"url": svc.URL + "/denied", "headers": map[string]any{"Authorization": "Bearer " + canary}})
	if sdk.KindOf(err) != sdk.KindRetryable || !strings.Contains(err.Error(), "got 401") {
		t.Fatalf("err %v, want a retryable 401 mismatch", err)
	}
	if strings.Contains(err.Error(), canary) || !strings.Contains(err.Error(), "***") {
		t.Fatalf("error %q shows the header, or does not show it masked", err)
	}
	userURL := strings.Replace(svc.URL, "http://", "http://ops:"+canary+"@", 1)
	_, err = f.check(t, map[string]any{"url": userURL + "/created"})
	if err == nil || strings.Contains(err.Error(), canary) || !strings.Contains(err.Error(), "ops:xxxxx@") {
		t.Fatalf("error %v shows the URL's password, or does not show it redacted", err)
	}
	out, err := f.check(t, map[string]any{"url": svc.URL + "/echo", "method": "PUT", "body": "drill",
		"headers": map[string]any{"Authorization": canary, "X-Drill": "yes", "Host": "api.alpha-orion.com"}})
	if err != nil {
		t.Fatal(err)
	}
	var echo map[string]string
	if err := json.Unmarshal([]byte(out["body"].(string)), &echo); err != nil {
		t.Fatal(err)
	}
	if echo["auth"] != canary || echo["x"] != "yes" || echo["method"] != "PUT" || echo["body"] != "drill" || echo["host"] != "api.alpha-orion.com" {
		t.Fatalf("the service saw %v", echo)
	}
	if got := out["headers"].(map[string]any)["Set-Cookie"]; got != "***" {
		t.Fatalf("Set-Cookie output = %v, want masked", got)
	}
	if strings.Contains(f.logText(), canary) {
		t.Fatalf("a log line shows the secret:\n%s", f.logText())
	}
}

func TestBodyIsTruncated(t *testing.T) {
	t.Parallel()
	svc := newService(t, false)
	out, err := newFixture(t, nil).check(t, map[string]any{"url": svc.URL + "/big"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out["body"].(string)) != MaxBody || out["truncated"] != true {
		t.Fatalf("body of %d bytes, truncated %v; want %d and true", len(out["body"].(string)), out["truncated"], MaxBody)
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	svc := newService(t, true)
	svc.healthy.Store(true)
	_, err := newFixture(t, nil).check(t, map[string]any{"url": svc.URL + "/health"})
	if sdk.KindOf(err) != sdk.KindPermanent || !strings.Contains(err.Error(), "tls_insecure_skip_verify") {
		t.Fatalf("err %v (kind %q), want a permanent certificate error with a hint", err, sdk.KindOf(err))
	}
	out, err := newFixture(t, map[string]any{"tls_insecure_skip_verify": true}).check(t, map[string]any{"url": svc.URL + "/health"})
	if err != nil || out["status"] != 200 {
		t.Fatalf("with tls_insecure_skip_verify: %v, %v", out, err)
	}
}

func TestPlan(t *testing.T) {
	t.Parallel()
	f := newFixture(t, map[string]any{"base_url": "https://api.alpha-orion.com"})
	plan, err := f.Mgr.Plan(context.Background(), Name, sdk.Request{Action: "check", Inputs: map[string]any{"url": "/health", "expect_status": []any{200, "3xx"}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "would send GET https://api.alpha-orion.com/health and expect 200 or 3xx"; plan.Summary != want {
		t.Fatalf("plan = %q, want %q", plan.Summary, want)
	}
	_, err = f.Mgr.Plan(context.Background(), Name, sdk.Request{Action: "check", Inputs: map[string]any{"url": "health"}})
	if err != nil {
		t.Fatalf("relative without a leading slash: %v", err)
	}
}

func TestRelativeWithoutBase(t *testing.T) {
	t.Parallel()
	_, err := newFixture(t, nil).check(t, map[string]any{"url": "/health"})
	if sdk.KindOf(err) != sdk.KindBadInput || !strings.Contains(err.Error(), "no base_url") {
		t.Fatalf("err %v, want bad input naming base_url", err)
	}
}

func TestParseStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      any
		text    string
		accepts []int
		rejects []int
	}{
		{nil, "200", []int{200}, []int{201, 503}},
		{204, "204", []int{204}, []int{200}},
		{204.0, "204", []int{204}, []int{200}},
		{"5xx", "5xx", []int{500, 503}, []int{200}},
		{[]any{200, "301", "4XX"}, "200 or 301 or 4xx", []int{200, 301, 404}, []int{302, 500}},
		{"any", "any status", []int{100, 599}, nil},
	}
	for _, tt := range tests {
		s, err := parseStatus(tt.in)
		if err != nil {
			t.Fatalf("parseStatus(%v): %v", tt.in, err)
		}
		if s.String() != tt.text {
			t.Errorf("parseStatus(%v) = %q, want %q", tt.in, s, tt.text)
		}
		for _, c := range tt.accepts {
			if !s.has(c) {
				t.Errorf("%v does not accept %d", tt.in, c)
			}
		}
		for _, c := range tt.rejects {
			if s.has(c) {
				t.Errorf("%v accepts %d", tt.in, c)
			}
		}
	}
	for _, bad := range []any{[]any{}, 2.5, true, "6xx", 600} {
		if _, err := parseStatus(bad); err == nil {
			t.Errorf("parseStatus(%v) accepted it", bad)
		}
	}
}

func TestExampleRunbookLints(t *testing.T) {
	t.Parallel()
	plugintest.LintsClean(t, testCatalog, "testdata/health-after-restart.yaml")
}
