package emukit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// newTestKit returns a kit with one route, GET /things/{id}, whose errors
// are {"status", "message"}.
func newTestKit() *Kit {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"id": r.PathValue("id")})
	})
	return New(Options{Name: "testemu", BasePath: "/api", APIKey: "k", Unauthorized: "no key", Routes: mux,
		WriteError: func(w http.ResponseWriter, _ *http.Request, status int, msg string) {
			WriteJSON(w, status, map[string]any{"status": status, "message": msg})
		}})
}

// get sends GET path with key to h and returns the status and the body's message (or id).
func get(h http.Handler, method, path, key string) (int, string) {
	req := httptest.NewRequest(method, path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if id, ok := body["id"]; ok {
		return rec.Code, fmt.Sprint(id)
	}
	return rec.Code, fmt.Sprint(body["message"])
}

func TestPipeline(t *testing.T) {
	t.Parallel()
	k := newTestKit()
	tests := []struct {
		name, method, path, key string
		status                  int
		text                    string
	}{
		{"with base path", "GET", "/api/things/a", "k", 200, "a"},
		{"without base path", "GET", "/things/b", "k", 200, "b"},
		{"no key", "GET", "/api/things/a", "", 401, "no key"},
		{"wrong key", "GET", "/api/things/a", "x", 401, "no key"},
		{"unknown route", "GET", "/api/nothing", "k", 404, "no route for GET /nothing"},
		{"wrong method", "DELETE", "/api/things/a", "k", 404, "no route for DELETE /things/a"},
	}
	for _, tc := range tests {
		if status, text := get(k, tc.method, tc.path, tc.key); status != tc.status || text != tc.text {
			t.Errorf("%s: %d %q, want %d %q", tc.name, status, text, tc.status, tc.text)
		}
	}
	want := []Request{
		{Method: "GET", Path: "/things/a", Status: 200}, {Method: "GET", Path: "/things/b", Status: 200},
		{Method: "GET", Path: "/things/a", Status: 401}, {Method: "GET", Path: "/things/a", Status: 401},
		{Method: "GET", Path: "/nothing", Status: 404}, {Method: "DELETE", Path: "/things/a", Status: 404},
	}
	if got := k.Requests(); !reflect.DeepEqual(got, want) {
		t.Errorf("Requests() = %+v\nwant %+v", got, want)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	k := newTestKit()
	k.InjectFault(Fault{Status: http.StatusConflict, Method: "get", PathContains: "/things/x", Message: "taken"})
	k.FailNext(2, http.StatusBadGateway)
	steps := []struct {
		path   string
		status int
		text   string
	}{
		{"/things/y", 502, http.StatusText(http.StatusBadGateway)}, // the first fault does not match
		{"/things/x", 409, "taken"},                                // its one use
		{"/things/x", 502, http.StatusText(http.StatusBadGateway)},
		{"/things/x", 200, "x"},
	}
	for i, s := range steps {
		if status, text := get(k, "GET", s.path, "k"); status != s.status || text != s.text {
			t.Errorf("request %d (%s): %d %q, want %d %q", i+1, s.path, status, text, s.status, s.text)
		}
	}

	worded := New(Options{APIKey: "k", Routes: http.NewServeMux(), FaultMessage: func(int) string { return "provider words" },
		WriteError: func(w http.ResponseWriter, _ *http.Request, status int, msg string) {
			WriteJSON(w, status, map[string]any{"message": msg})
		}})
	worded.FailNext(1, http.StatusServiceUnavailable)
	if status, text := get(worded, "GET", "/x", "k"); status != 503 || text != "provider words" {
		t.Errorf("fault without a message: %d %q, want the provider's words", status, text)
	}

	k.FailNext(5, http.StatusBadGateway)
	k.SetLatency(time.Hour)
	k.ClearFaults()
	if status, _ := get(k, "GET", "/things/z", "k"); status != 200 {
		t.Errorf("after ClearFaults: %d, want 200 at once", status)
	}
}

func TestLatencyEndsWithTheRequest(t *testing.T) {
	t.Parallel()
	k := newTestKit()
	k.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req := httptest.NewRequest("GET", "/things/a", nil).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer k")
	start := time.Now()
	k.ServeHTTP(httptest.NewRecorder(), req)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a cancelled request waited %s", d)
	}
}

func TestStartAndShutdown(t *testing.T) {
	t.Parallel()
	k := newTestKit()
	if err := k.Shutdown(); err != nil || k.URL() != "" {
		t.Fatalf("before Start: Shutdown = %v, URL = %q", err, k.URL())
	}
	url, err := k.Start("", k)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/api") || k.URL() != url {
		t.Errorf("Start = %q, URL = %q", url, k.URL())
	}
	req, _ := http.NewRequest("GET", url+"/things/s", nil)
	req.Header.Set("Authorization", "Bearer k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || !strings.Contains(string(body), `"s"`) {
		t.Errorf("served: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if err := k.Shutdown(); err != nil {
		t.Errorf("Shutdown = %v", err)
	}
	if _, err := k.Start("256.0.0.1:0", k); err == nil || !strings.HasPrefix(err.Error(), "testemu: listen: ") {
		t.Errorf("Start on a bad address = %v", err)
	}
}

// TestChaosFaults: the faults a game-day drill injects, through a real
// server: skipped requests, Retry-After in both forms, a slow answer and a
// dropped connection.
func TestChaosFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault Fault
		// per request: the status (0: the connection dropped) and a check of the Retry-After header
		want       []int
		retryAfter func(string) bool
		minTime    time.Duration
	}{
		{"skip then fail", Fault{Status: 503, Skip: 2}, []int{200, 200, 503, 200}, nil, 0},
		{"retry-after seconds", Fault{Status: 429, RetryAfter: 1500 * time.Millisecond}, []int{429, 200},
			func(v string) bool { return v == "2" }, 0},
		{"retry-after date", Fault{Status: 429, RetryAfter: 3 * time.Second, RetryAfterDate: true}, []int{429, 200},
			func(v string) bool {
				at, err := http.ParseTime(v)
				d := time.Until(at)
				return err == nil && d > time.Second && d <= 3*time.Second
			}, 0},
		{"slow", Fault{Delay: 50 * time.Millisecond, Times: 1}, []int{200, 200}, nil, 50 * time.Millisecond},
		{"drop", Fault{Drop: true, Skip: 1}, []int{200, 0, 200}, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := newTestKit()
			srv := httptest.NewServer(k)
			defer srv.Close()
			k.InjectFault(tc.fault)
			start := time.Now()
			for i, want := range tc.want {
				req, _ := http.NewRequest("GET", srv.URL+"/api/things/x", nil)
				req.Header.Set("Authorization", "Bearer k")
				resp, err := srv.Client().Do(req)
				if want == 0 {
					if err == nil {
						resp.Body.Close()
						t.Fatalf("request %d: answered %d, want a dropped connection", i+1, resp.StatusCode)
					}
					continue
				}
				if err != nil {
					t.Fatalf("request %d: %v", i+1, err)
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Fatalf("request %d: %d, want %d", i+1, resp.StatusCode, want)
				}
				if v := resp.Header.Get("Retry-After"); tc.retryAfter != nil && want == 429 && !tc.retryAfter(v) {
					t.Errorf("Retry-After %q", v)
				}
			}
			if took := time.Since(start); took < tc.minTime {
				t.Errorf("took %s, want at least %s", took, tc.minTime)
			}
		})
	}
}
