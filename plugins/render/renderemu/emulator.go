package renderemu

import (
	"net/http"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/plugins/internal/emukit"
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
	opts Options
	kit  *emukit.Kit // the request pipeline, faults, request log and server

	mu          sync.Mutex
	services    []*service
	groups      []*envGroup
	deploys     map[string]*deploy
	failDeploys int
	noBody      int             // deploy creations left to answer 202 without a body
	down        map[string]bool // regions in an outage (SetRegionDown)
	nextEvent   int             // the last event ID's number
}

// service is a Service plus what the emulator tracks about it.
type service struct {
	Service
	env      map[string]string
	deploys  []*deploy
	restarts int
	events   []ServiceEvent
	resumes  int
	scales   []int
	domains  []CustomDomain
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
	e.kit = emukit.New(emukit.Options{
		Name:         "renderemu",
		BasePath:     BasePath,
		APIKey:       opts.APIKey,
		Unauthorized: "unauthorized: pass a valid API key as 'Authorization: Bearer <key>'",
		Routes:       e.newRoutes(),
		WriteError: func(w http.ResponseWriter, _ *http.Request, status int, msg string) {
			writeError(w, status, msg)
		},
		FaultMessage: faultMessage,
	})
	return e
}

// newRoutes maps the API's paths to handlers.
func (e *Emulator) newRoutes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /services", e.listServices)
	mux.HandleFunc("POST /services", e.createService)
	mux.HandleFunc("GET /services/{serviceId}", e.getService)
	mux.HandleFunc("DELETE /services/{serviceId}", e.deleteService)
	mux.HandleFunc("GET /services/{serviceId}/custom-domains", e.listCustomDomains)
	mux.HandleFunc("POST /services/{serviceId}/custom-domains", e.createCustomDomain)
	mux.HandleFunc("DELETE /services/{serviceId}/custom-domains/{customDomainIdOrName}", e.deleteCustomDomain)
	mux.HandleFunc("POST /services/{serviceId}/scale", e.scale)
	mux.HandleFunc("POST /services/{serviceId}/suspend", e.suspend)
	mux.HandleFunc("POST /services/{serviceId}/resume", e.resume)
	mux.HandleFunc("POST /services/{serviceId}/restart", e.restart)
	mux.HandleFunc("GET /services/{serviceId}/events", e.listEvents)
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
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.kit.ServeHTTP(w, r) }

// Start serves the API on addr (empty means 127.0.0.1:0) and returns the base
// URL to give clients, ending in BasePath.
func (e *Emulator) Start(addr string) (string, error) { return e.kit.Start(addr, e) }

// URL returns the base URL Start returned, or "" before Start.
func (e *Emulator) URL() string { return e.kit.URL() }

// APIKey returns the bearer token the emulator accepts.
func (e *Emulator) APIKey() string { return e.opts.APIKey }

// OwnerID returns the workspace owning everything (the ownerId to create services with).
func (e *Emulator) OwnerID() string { return e.opts.OwnerID }

// Close stops serving if Start was called.
func (e *Emulator) Close() error { return e.kit.Shutdown() }

// now returns the emulator's clock reading in UTC.
func (e *Emulator) now() time.Time { return e.opts.Now().UTC() }
