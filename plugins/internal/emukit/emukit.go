// Package emukit is the plumbing the provider emulators (neonemu, renderemu)
// share: the request pipeline in front of an emulator's routes (the API's
// base path, injected latency, the bearer key, injected faults, a 404 for an
// unknown route), the log of the requests answered, JSON answers, and
// serving on a local port.
//
// Each emulator keeps its own exported API and forwards to a Kit; what
// differs between providers (the error body, the wording of messages) is a
// field of Options.
package emukit

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Options configures a Kit.
type Options struct {
	// Name names the emulator in errors, e.g. "neonemu".
	Name string
	// BasePath is the API's path prefix, e.g. "/api/v2"; requests are
	// served with or without it.
	BasePath string
	// APIKey is the bearer token every request must carry.
	APIKey string
	// Unauthorized is the message of the 401 for a missing or wrong key.
	Unauthorized string
	// Routes answers the API's paths, without BasePath.
	Routes *http.ServeMux
	// WriteError writes an error in the provider's shape.
	WriteError func(w http.ResponseWriter, r *http.Request, status int, msg string)
	// FaultMessage is the message of a fault that has none; nil means
	// http.StatusText.
	FaultMessage func(status int) string
}

// Kit serves an emulator's routes behind the shared request pipeline and
// keeps its faults, latency and request log; it is safe for concurrent use.
type Kit struct {
	opts Options

	mu       sync.Mutex
	faults   []Fault
	latency  time.Duration
	requests []Request

	httpSrv *http.Server
	baseURL string
}

// New returns a Kit for opts.
func New(opts Options) *Kit {
	if opts.FaultMessage == nil {
		opts.FaultMessage = http.StatusText
	}
	return &Kit{opts: opts}
}

// ServeHTTP answers one API request through the pipeline and logs it.
func (k *Kit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := strings.TrimPrefix(r.URL.Path, k.opts.BasePath); p != r.URL.Path {
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = p, ""
		r = r2
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	k.serve(rec, r)
	k.mu.Lock()
	k.requests = append(k.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: rec.status})
	k.mu.Unlock()
}

// serve applies latency, authentication and faults, then routes.
func (k *Kit) serve(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	latency := k.latency
	k.mu.Unlock()
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token != k.opts.APIKey {
		k.opts.WriteError(w, r, http.StatusUnauthorized, k.opts.Unauthorized)
		return
	}
	if f, ok := k.takeFault(r); ok && k.fault(w, r, f) {
		return
	}
	if _, pattern := k.opts.Routes.Handler(r); pattern == "" {
		k.opts.WriteError(w, r, http.StatusNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
		return
	}
	k.opts.Routes.ServeHTTP(w, r) // sets the path values Handler does not
}

// fault applies f to r and reports whether it answered (or dropped) r; a
// fault that only delays lets the request be served after the delay.
func (k *Kit) fault(w http.ResponseWriter, r *http.Request, f Fault) bool {
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return true
		}
	}
	if f.Drop {
		if f.AfterEffect {
			k.opts.Routes.ServeHTTP(httptest.NewRecorder(), r)
		}
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		} else {
			panic(http.ErrAbortHandler) // HTTP/2: net/http resets the stream
		}
		return true
	}
	if f.Status == 0 {
		return false
	}
	if f.AfterEffect {
		k.opts.Routes.ServeHTTP(httptest.NewRecorder(), r)
	}
	if v := f.retryAfter(time.Now()); v != "" {
		w.Header().Set("Retry-After", v)
	}
	k.opts.WriteError(w, r, f.Status, k.message(f))
	return true
}

// Start serves h (the emulator, which passes requests on to ServeHTTP) on
// addr (empty means 127.0.0.1:0) and returns the base URL to give clients,
// ending in BasePath.
func (k *Kit) Start(addr string, h http.Handler) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("%s: listen: %w", k.opts.Name, err)
	}
	k.httpSrv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = k.httpSrv.Serve(l) }()
	k.baseURL = "http://" + l.Addr().String() + k.opts.BasePath
	return k.baseURL, nil
}

// URL returns the base URL Start returned, or "" before Start.
func (k *Kit) URL() string { return k.baseURL }

// Shutdown stops serving if Start was called.
func (k *Kit) Shutdown() error {
	if k.httpSrv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return k.httpSrv.Shutdown(ctx)
}

// WriteJSON writes v as the JSON body with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// Unwrap gives http.ResponseController the writer, to hijack a connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// WriteHeader records the status and passes it on.
func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
