package plugintest

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/alpha-orion/runbook/plugins/sdk"
)

// fakeT records failures instead of failing; Fatalf records and does not stop.
type fakeT struct {
	testing.TB
	failures []string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, a ...any) {
	f.failures = append(f.failures, fmt.Sprintf(format, a...))
}
func (f *fakeT) Fatalf(format string, a ...any) {
	f.failures = append(f.failures, fmt.Sprintf(format, a...))
}

func TestCanaries(t *testing.T) {
	t.Parallel()
	var c Canaries
	c.Add("sekrit-1", "")
	ft := &fakeT{}
	c.Check(ft, "all fine", "")
	if len(ft.failures) != 0 {
		t.Fatalf("no canary shows, yet: %q", ft.failures)
	}
	c.Check(ft, "the key is sekrit-1")
	if len(ft.failures) != 1 || ft.failures[0] != `secret "sekrit-1" leaked: the key is sekrit-1` {
		t.Errorf("failures = %q", ft.failures)
	}
}

func TestWantKind(t *testing.T) {
	t.Parallel()
	err := sdk.NotFound("neon: get branch x: 404")
	ft := &fakeT{}
	WantKind(ft, err, sdk.KindNotFound, "get branch", "404")
	if len(ft.failures) != 0 {
		t.Errorf("a matching error fails: %q", ft.failures)
	}
	WantKind(ft, errors.New("plain"), sdk.KindNotFound, "get branch")
	if len(ft.failures) != 2 {
		t.Errorf("a wrong kind and a missing word: %d failures %q, want 2", len(ft.failures), ft.failures)
	}
}

func TestRecorderAndSend(t *testing.T) {
	t.Parallel()
	rec := &Recorder{H: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte("ok"))
	})}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	if status, body := Send(t, "POST", srv.URL+"/a?x=1", "k", map[string]int{"n": 1}); status != 202 || string(body) != "ok" {
		t.Errorf("Send = %d %q", status, body)
	}
	Send(t, "PUT", srv.URL+"/b", "", "not json")
	Send(t, "POST", srv.URL+"/c", "k", nil)
	if got := rec.Last("POST"); got.Path != "/c" || got.Auth != "Bearer k" || got.Body != nil {
		t.Errorf("last POST = %+v", got)
	}
	if got := rec.Last("PUT"); got.Path != "/b" || got.Auth != "" || got.Body != nil {
		t.Errorf("last PUT = %+v", got)
	}
	rec.mu.Lock()
	first := rec.reqs[0]
	rec.mu.Unlock()
	if first.Query != "x=1" || first.Body["n"] != float64(1) {
		t.Errorf("first request = %+v", first)
	}
	if got := rec.Last("GET"); got.Method != "" {
		t.Errorf("Last(GET) with none = %+v", got)
	}
}
