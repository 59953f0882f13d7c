package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/plugins/sdk"
)

const testKey = "httpapi-canary-key-0d9e"

// answer serves status and body to every request.
func answer(t *testing.T, status int, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// testClient returns a client of base that retries at once, with Neon-like options.
func testClient(base string) *Client {
	return &Client{Provider: "acme", KeyScope: "tenant", BaseURL: base, Key: testKey, Retries: 2,
		Delay: time.Millisecond, MaxDelay: 5 * time.Millisecond, RequestTimeout: 5 * time.Second,
		RetryStatuses: []int{http.StatusLocked}, ErrorMessage: func(raw []byte) string {
			var e struct{ Message string }
			if json.Unmarshal(raw, &e) != nil {
				return ""
			}
			return e.Message
		}}
}

func TestStatusKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		kind   sdk.Kind
		words  []string
	}{
		{http.StatusUnauthorized, sdk.KindUnauthenticated, []string{"acme: get thing: 401", "check the acme api_key setting"}},
		{http.StatusForbidden, sdk.KindPermissionDenied, []string{"403", "may not access this tenant"}},
		{http.StatusNotFound, sdk.KindNotFound, []string{"404 Not Found: boom"}},
		{http.StatusConflict, sdk.KindConflict, []string{"409"}},
		{http.StatusBadRequest, sdk.KindBadInput, []string{"400"}},
		{http.StatusUnprocessableEntity, sdk.KindBadInput, []string{"422"}},
		{http.StatusTeapot, sdk.KindPermanent, []string{"418"}},
		{http.StatusLocked, sdk.KindRetryable, []string{"423", "gave up after 3 attempts"}},
		{http.StatusTooManyRequests, sdk.KindRetryable, []string{"429", "gave up after 3 attempts"}},
		{http.StatusBadGateway, sdk.KindRetryable, []string{"502", "gave up after 3 attempts"}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			t.Parallel()
			srv := answer(t, tc.status, `{"message":"boom"}`)
			err := testClient(srv.URL).Call(context.Background(), "get thing", http.MethodGet, "/thing", nil, nil, nil)
			if got := sdk.KindOf(err); got != tc.kind {
				t.Fatalf("kind = %s, want %s (%v)", got, tc.kind, err)
			}
			for _, w := range tc.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLockedIsPermanentUnlessListed(t *testing.T) {
	t.Parallel()
	srv := answer(t, http.StatusLocked, `{"message":"busy"}`)
	c := testClient(srv.URL)
	c.RetryStatuses = nil
	err := c.Call(context.Background(), "get thing", http.MethodGet, "/thing", nil, nil, nil)
	if got := sdk.KindOf(err); got != sdk.KindPermanent || strings.Contains(err.Error(), "gave up") {
		t.Errorf("423 without RetryStatuses = %s (%v), want permanent at once", got, err)
	}
}

// TestErrorTextMasked: the key and the hidden values never show, however
// the API quotes them, and a body that is not the provider's shape is
// quoted in part.
func TestErrorTextMasked(t *testing.T) {
	t.Parallel()
	hidden := "postgres://u:pa55word@db/app"
	srv := answer(t, http.StatusBadRequest, `{"message":"bad key `+testKey+` for `+hidden+`"}`)
	c := testClient(srv.URL)
	c.Hide = []string{hidden}
	err := c.Call(context.Background(), "set var", http.MethodPut, "/v", nil, map[string]string{"value": hidden}, nil)
	if err == nil || strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), hidden) || !strings.Contains(err.Error(), "bad key *** for ***") {
		t.Errorf("error = %v, want both values masked", err)
	}

	long := answer(t, http.StatusBadRequest, strings.Repeat("x", 1000))
	err = testClient(long.URL).Call(context.Background(), "get thing", http.MethodGet, "/thing", nil, nil, nil)
	if msg := err.Error(); !strings.HasSuffix(msg, strings.Repeat("x", maxErrorText)+"…") || strings.Contains(msg, strings.Repeat("x", maxErrorText+1)) {
		t.Errorf("a long non-JSON body is not cut to %d characters: %d characters", maxErrorText, len(msg))
	}
}

// recordLog keeps warnings.
type recordLog struct {
	mu    sync.Mutex
	warns []string
}

func (l *recordLog) Printf(string, ...any) {}
func (l *recordLog) Warnf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.warns = append(l.warns, fmt.Sprintf(format, args...))
}

// TestCallSendsAndDecodes: the request carries the key, the query and a
// JSON body; a transient failure is retried and logged; the answer is decoded.
func TestCallSendsAndDecodes(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		var in map[string]int
		_ = json.NewDecoder(r.Body).Decode(&in)
		if r.Header.Get("Authorization") != "Bearer "+testKey || r.URL.Query().Get("q") != "1" ||
			r.Header.Get("Content-Type") != "application/json" || in["n"] != 7 {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"id":"x-1"}`))
	}))
	defer srv.Close()
	c := testClient(srv.URL)
	log := &recordLog{}
	c.Log = log
	var out struct{ ID string }
	err := c.Call(context.Background(), "make thing", http.MethodPost, "/things", map[string][]string{"q": {"1"}}, map[string]int{"n": 7}, &out)
	if err != nil || out.ID != "x-1" {
		t.Fatalf("Call = %+v, %v", out, err)
	}
	if len(log.warns) != 1 || !strings.Contains(log.warns[0], "acme: make thing: 503") || !strings.Contains(log.warns[0], "attempt 2 of 3") {
		t.Errorf("retry warnings = %q", log.warns)
	}
}

func TestNetworkFailureAndCancel(t *testing.T) {
	t.Parallel()
	c := testClient("http://127.0.0.1:1")
	err := c.Call(context.Background(), "get thing", http.MethodGet, "/thing", nil, nil, nil)
	if sdk.KindOf(err) != sdk.KindRetryable || !strings.Contains(err.Error(), "acme: get thing") || strings.Contains(err.Error(), "127.0.0.1:1/thing") {
		t.Errorf("refused connection = %v, want retryable without the URL", err)
	}

	srv := answer(t, http.StatusServiceUnavailable, "")
	c = testClient(srv.URL)
	c.Delay, c.MaxDelay = time.Hour, time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	err = c.Call(ctx, "get thing", http.MethodGet, "/thing", nil, nil, nil)
	if sdk.KindOf(err) != sdk.KindCanceled || time.Since(start) > 2*time.Second {
		t.Errorf("cancel during backoff = %v after %s", err, time.Since(start))
	}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	def := Settings{BaseURL: "https://api.example/v1", Retries: 5, RetryDelay: time.Second, PollInterval: time.Second, RequestTimeout: time.Second}
	s := def
	s.Read(map[string]any{"api_key": "k", "base_url": "http://127.0.0.1:9/v1/", "retries": 2, "poll_interval": time.Millisecond})
	want := Settings{APIKey: "k", BaseURL: "http://127.0.0.1:9/v1", Retries: 2, RetryDelay: time.Second, PollInterval: time.Millisecond, RequestTimeout: time.Second}
	if s != want {
		t.Errorf("Read = %+v, want %+v", s, want)
	}
	if err := s.Check("acme", "${{ secrets.ACME_KEY }}"); err != nil {
		t.Errorf("Check = %v", err)
	}
	for _, tc := range []struct {
		m    map[string]any
		word string
	}{
		{map[string]any{}, "api_key is empty (pass ${{ secrets.ACME_KEY }})"},
		{map[string]any{"api_key": "k", "base_url": "ftp://x"}, "base_url must start with https://"},
		{map[string]any{"api_key": "k", "retries": 51}, "retries must be from 0 to 50, not 51"},
		{map[string]any{"api_key": "k", "request_timeout": time.Duration(0)}, "must be positive"},
	} {
		s := def
		s.Read(tc.m)
		err := s.Check("acme", "${{ secrets.ACME_KEY }}")
		if sdk.KindOf(err) != sdk.KindBadInput || !strings.HasPrefix(err.Error(), "acme: configure: ") || !strings.Contains(err.Error(), tc.word) {
			t.Errorf("Check(%v) = %v, want bad input mentioning %q", tc.m, err, tc.word)
		}
	}
}

// TestParseRetryAfter reads both forms RFC 9110 allows, and refuses
// anything else in favour of the client's own backoff.
func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	tests := []struct {
		name, value string
		want        time.Duration
	}{
		{"seconds", "3", 3 * time.Second},
		{"seconds with spaces", " 1 ", time.Second},
		{"zero", "0", 0},
		{"HTTP-date ahead", "Thu, 03 Dec 2026 07:00:05 GMT", 5 * time.Second},
		{"RFC 850 date", "Thursday, 03-Dec-26 07:00:02 GMT", 2 * time.Second},
		{"asctime date", "Thu Dec  3 07:00:04 2026", 4 * time.Second},
		{"date in the past", "Thu, 03 Dec 2026 06:59:00 GMT", 0},
		{"empty", "", 0},
		{"garbage", "soon", 0},
		{"negative", "-5", 0},
		{"fraction", "1.5", 0},
		{"huge number", "99999999999999999999999", maxRetryAfter},
		{"large number", "31536000", maxRetryAfter},
		{"date far ahead", "Fri, 03 Dec 2027 07:00:00 GMT", maxRetryAfter},
	}
	for _, tc := range tests {
		if got := parseRetryAfter(tc.value, now); got != tc.want {
			t.Errorf("%s: parseRetryAfter(%q) = %s, want %s", tc.name, tc.value, got, tc.want)
		}
	}
}

// TestRetryAfterIsHonouredAndCapped: the client waits what a 429 asks for,
// in either form, but never longer than MaxDelay.
func TestRetryAfterIsHonouredAndCapped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		header   func() string
		maxDelay time.Duration
		minWait  time.Duration
		logged   string // the wait the warning announces
	}{
		{"seconds", func() string { return "1" }, 5 * time.Second, time.Second, "retrying in 1s"},
		{"HTTP-date", func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) }, 5 * time.Second, 900 * time.Millisecond, "retrying in 1."},
		{"capped", func() string { return "3600" }, 20 * time.Millisecond, 20 * time.Millisecond, "retrying in 20ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			calls := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				mu.Lock()
				calls++
				n := calls
				mu.Unlock()
				if n == 1 {
					w.Header().Set("Retry-After", tc.header())
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				w.Write([]byte(`{}`))
			}))
			defer srv.Close()
			c := testClient(srv.URL)
			c.MaxDelay = tc.maxDelay
			log := &recordLog{}
			c.Log = log
			start := time.Now()
			if err := c.Call(context.Background(), "get thing", http.MethodGet, "/thing", nil, nil, nil); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took < tc.minWait {
				t.Errorf("retried after %s, want at least %s", took, tc.minWait)
			}
			if len(log.warns) != 1 || !strings.Contains(log.warns[0], tc.logged) {
				t.Errorf("warnings %q, want one saying %q", log.warns, tc.logged)
			}
		})
	}
}
