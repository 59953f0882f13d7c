package plugintest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// Recorded is one request as a Recorder saw it.
type Recorded struct {
	Method, Path, Query, Auth string
	Body                      map[string]any // the JSON object sent, if any
}

// Recorder serves H and keeps every request, for checking what a client sends.
type Recorder struct {
	H    http.Handler
	mu   sync.Mutex
	reqs []Recorded
}

// ServeHTTP records r and passes it on to H.
func (r *Recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	raw, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(raw))
	rec := Recorded{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Auth: req.Header.Get("Authorization")}
	_ = json.Unmarshal(raw, &rec.Body)
	r.mu.Lock()
	r.reqs = append(r.reqs, rec)
	r.mu.Unlock()
	r.H.ServeHTTP(w, req)
}

// Last returns the latest request with method, or the zero Recorded.
func (r *Recorder) Last(method string) Recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.reqs) - 1; i >= 0; i-- {
		if r.reqs[i].Method == method {
			return r.reqs[i]
		}
	}
	return Recorded{}
}

// Send makes one request to url with a bearer key ("" for none) and returns
// the status and the body. A string body is sent as it is, anything else
// (but nil) as JSON.
func Send(t testing.TB, method, url, key string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, raw
}
