package renderemu

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// BasePath is the path prefix of the API, as in https://api.render.com/v1.
const BasePath = "/v1"

// DefaultAPIKey is the bearer token accepted when Options.APIKey is empty.
const DefaultAPIKey = "renderemu-key"

// Options configures an Emulator; the zero value is ready to use.
type Options struct {
	// APIKey is the bearer token every request must carry; empty means DefaultAPIKey.
	APIKey string
	// OwnerID is the workspace owning everything; empty means a generated "tea-…".
	OwnerID string
	// PollsPerStep is how many GETs of a deploy move it one status further; 0 means 1.
	PollsPerStep int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Emulator is an in-memory Render API; it is an http.Handler, safe for concurrent use.
type Emulator struct {
	opts   Options
	routes *http.ServeMux

	mu          sync.Mutex
	services    []*service
	groups      []*envGroup
	deploys     map[string]*deploy
	faults      []Fault
	latency     time.Duration
	failDeploys int
	noBody      int // deploy creations left to answer 202 without a body
	requests    []Request

	httpSrv *http.Server
	baseURL string
}

// service is a Service plus what the emulator tracks about it.
type service struct {
	Service
	env      map[string]string
	deploys  []*deploy
	restarts int
	scales   []int
}

// deploy is a Deploy plus its progress.
type deploy struct {
	Deploy
	service *service
	polls   int
	fail    bool
}

// envGroup is an EnvGroup with its variables kept by key.
type envGroup struct {
	EnvGroupMeta
	env map[string]string
}

// New returns an emulator with no services; see AddService and SeedAlphaOrion.
func New(opts Options) *Emulator {
	if opts.APIKey == "" {
		opts.APIKey = DefaultAPIKey
	}
	if opts.OwnerID == "" {
		opts.OwnerID = newID("tea")
	}
	if opts.PollsPerStep <= 0 {
		opts.PollsPerStep = 1
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	e := &Emulator{opts: opts, deploys: map[string]*deploy{}}
	e.routes = e.newRoutes()
	return e
}

// newRoutes maps the API's paths to handlers.
func (e *Emulator) newRoutes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /services", e.listServices)
	mux.HandleFunc("GET /services/{serviceId}", e.getService)
	mux.HandleFunc("POST /services/{serviceId}/scale", e.scale)
	mux.HandleFunc("POST /services/{serviceId}/suspend", e.suspend)
	mux.HandleFunc("POST /services/{serviceId}/resume", e.resume)
	mux.HandleFunc("POST /services/{serviceId}/restart", e.restart)
	mux.HandleFunc("POST /services/{serviceId}/deploys", e.createDeploy)
	mux.HandleFunc("GET /services/{serviceId}/deploys", e.listDeploys)
	mux.HandleFunc("GET /services/{serviceId}/deploys/{deployId}", e.getDeploy)
	mux.HandleFunc("GET /services/{serviceId}/env-vars", e.listEnvVars)
	mux.HandleFunc("GET /services/{serviceId}/env-vars/{envVarKey}", e.getEnvVar)
	mux.HandleFunc("PUT /services/{serviceId}/env-vars/{envVarKey}", e.putEnvVar)
	mux.HandleFunc("GET /env-groups", e.listEnvGroups)
	mux.HandleFunc("GET /env-groups/{envGroupId}", e.getEnvGroup)
	mux.HandleFunc("PUT /env-groups/{envGroupId}/env-vars/{envVarKey}", e.putEnvGroupVar)
	return mux
}

// ServeHTTP answers one API request; paths work with or without BasePath.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := strings.TrimPrefix(r.URL.Path, BasePath); p != r.URL.Path {
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = p, ""
		r = r2
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	e.serve(rec, r)
	e.mu.Lock()
	e.requests = append(e.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: rec.status})
	e.mu.Unlock()
}

// serve applies latency, authentication and faults, then routes.
func (e *Emulator) serve(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	latency := e.latency
	e.mu.Unlock()
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token != e.opts.APIKey {
		writeError(w, http.StatusUnauthorized, "unauthorized: pass a valid API key as 'Authorization: Bearer <key>'")
		return
	}
	if f, ok := e.takeFault(r); ok {
		writeError(w, f.Status, f.message())
		return
	}
	if _, pattern := e.routes.Handler(r); pattern == "" {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
		return
	}
	e.routes.ServeHTTP(w, r) // sets the path values Handler does not
}

// Start serves the API on addr (empty means 127.0.0.1:0) and returns the base
// URL to give clients, ending in BasePath.
func (e *Emulator) Start(addr string) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("renderemu: listen: %w", err)
	}
	e.httpSrv = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.httpSrv.Serve(l) }()
	e.baseURL = "http://" + l.Addr().String() + BasePath
	return e.baseURL, nil
}

// URL returns the base URL Start returned, or "" before Start.
func (e *Emulator) URL() string { return e.baseURL }

// APIKey returns the bearer token the emulator accepts.
func (e *Emulator) APIKey() string { return e.opts.APIKey }

// Close stops serving if Start was called.
func (e *Emulator) Close() error {
	if e.httpSrv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return e.httpSrv.Shutdown(ctx)
}

// now returns the emulator's clock reading in UTC.
func (e *Emulator) now() time.Time { return e.opts.Now().UTC() }
