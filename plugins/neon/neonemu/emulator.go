package neonemu

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/internal/pgserver"
	"github.com/alpha-orion/runbook/plugins/internal/emukit"
)

// BasePath is the path prefix of the API, as in https://console.neon.tech/api/v2.
const BasePath = "/api/v2"

// DefaultAPIKey is the bearer token accepted when Options.APIKey is empty.
const DefaultAPIKey = "neonemu-key"

// Options configures an Emulator; the zero value works without data.
type Options struct {
	// APIKey is the bearer token every request must carry; empty means DefaultAPIKey.
	APIKey string
	// Server holds the branches' data; nil means branches have no data.
	Server *pgserver.Server
	// PollsPerStep is how many GETs of an operation move it one status further; 0 means 1.
	PollsPerStep int
	// HistoryRetention bounds how far back restores may go; 0 means 7 days.
	HistoryRetention time.Duration
	// SnapshotEvery, when positive, snapshots every branch at that interval.
	SnapshotEvery time.Duration
	// OnlineSnapshots copies branches with pg_dump and psql, leaving their
	// sessions connected, instead of CREATE DATABASE … TEMPLATE, which is
	// faster but ends them; use it when an application stays connected.
	OnlineSnapshots bool
	// ProjectLock makes a running operation lock the whole project, as Neon
	// does, instead of only its branch.
	ProjectLock bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logf, when set, receives background errors (scheduled snapshots).
	Logf func(format string, args ...any)
}

// Emulator is an in-memory Neon API; it is an http.Handler, safe for concurrent use.
type Emulator struct {
	opts Options
	pg   *pgserver.Server
	tag  string      // makes database names unique among emulators sharing a server
	kit  *emukit.Kit // the request pipeline, faults, request log and server

	mu        sync.Mutex
	projects  []*project
	branches  map[string]*branch
	ops       map[string]*operation
	opList    []*operation // ops in creation order
	fakeLSN   uint64       // LSNs handed out when there is no server
	failOps   int
	holdPolls int             // extra polls the next operation stays running (SlowNextOperation)
	owned     map[string]bool // databases the emulator created
	seq       int

	pgMu sync.Mutex // serialises data work on the server

	stop   chan struct{}
	bg     sync.WaitGroup
	closed sync.Once
}

// project is a Project plus what the emulator needs to answer for it.
type project struct {
	Project
	dbName   string // the one database every branch holds, e.g. neondb
	roleName string
	password string
	branches []*branch
}

// branch is a Branch plus its data and history.
type branch struct {
	Branch
	endpointID string
	database   string // physical database on the server
	history    []Snapshot
	gen        int
	busy       bool // a restore is moving its data
}

// operation is an Operation plus its progress.
type operation struct {
	Operation
	polls int
	fail  bool
	hold  int // polls it stays running beyond the usual
}

// New returns an emulator with no projects; see AddProject.
func New(opts Options) *Emulator {
	if opts.APIKey == "" {
		opts.APIKey = DefaultAPIKey
	}
	if opts.PollsPerStep <= 0 {
		opts.PollsPerStep = 1
	}
	if opts.HistoryRetention <= 0 {
		opts.HistoryRetention = 7 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	e := &Emulator{
		opts:     opts,
		pg:       opts.Server,
		tag:      token(6),
		branches: map[string]*branch{},
		ops:      map[string]*operation{},
		owned:    map[string]bool{},
		stop:     make(chan struct{}),
	}
	e.kit = emukit.New(emukit.Options{
		Name:         "neonemu",
		BasePath:     BasePath,
		APIKey:       opts.APIKey,
		Unauthorized: "authentication required: pass a valid API key as 'Authorization: Bearer <key>'",
		Routes:       e.newRoutes(),
		WriteError:   writeError,
		FaultMessage: faultMessage,
	})
	if opts.SnapshotEvery > 0 {
		e.bg.Add(1)
		go e.snapshotLoop(opts.SnapshotEvery)
	}
	return e
}

// newRoutes maps the API's paths to handlers.
func (e *Emulator) newRoutes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /projects", e.listProjects)
	mux.HandleFunc("GET /projects/{project_id}", e.getProject)
	mux.HandleFunc("GET /projects/{project_id}/branches", e.listBranches)
	mux.HandleFunc("GET /projects/{project_id}/branches/{branch_id}", e.getBranch)
	mux.HandleFunc("POST /projects/{project_id}/branches/{branch_id}/restore", e.restoreBranch)
	mux.HandleFunc("GET /projects/{project_id}/operations", e.listOperations)
	mux.HandleFunc("GET /projects/{project_id}/operations/{operation_id}", e.getOperation)
	mux.HandleFunc("GET /projects/{project_id}/connection_uri", e.connectionURI)
	mux.HandleFunc("GET /projects/{project_id}/branches/{branch_id}/endpoints", e.listEndpoints)
	mux.HandleFunc("GET /projects/{project_id}/branches/{branch_id}/databases", e.listDatabases)
	mux.HandleFunc("GET /projects/{project_id}/branches/{branch_id}/roles", e.listRoles)
	mux.HandleFunc("GET /projects/{project_id}/branches/{branch_id}/roles/{role_name}/reveal_password", e.revealPassword)
	return mux
}

// ServeHTTP answers one API request; paths work with or without BasePath.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Request-ID") == "" {
		r.Header.Set("X-Request-ID", uuid())
	}
	e.kit.ServeHTTP(w, r)
}

// Start serves the API on addr (empty means 127.0.0.1:0) and returns the base
// URL to give clients, ending in BasePath.
func (e *Emulator) Start(addr string) (string, error) { return e.kit.Start(addr, e) }

// URL returns the base URL Start returned, or "" before Start.
func (e *Emulator) URL() string { return e.kit.URL() }

// APIKey returns the bearer token the emulator accepts.
func (e *Emulator) APIKey() string { return e.opts.APIKey }

// Close stops serving and scheduled snapshots and drops the databases the
// emulator created; a database given to AddProject is left in place.
func (e *Emulator) Close() error {
	var errs []error
	e.closed.Do(func() {
		close(e.stop)
		e.bg.Wait()
		errs = append(errs, e.kit.Shutdown())
		if e.pg == nil {
			return
		}
		e.pgMu.Lock()
		defer e.pgMu.Unlock()
		e.mu.Lock()
		var names []string
		for name := range e.owned {
			names = append(names, name)
		}
		e.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, name := range names {
			errs = append(errs, e.pg.DropDatabase(ctx, name))
		}
	})
	return errors.Join(errs...)
}

// now returns the emulator's clock reading in UTC.
func (e *Emulator) now() time.Time { return e.opts.Now().UTC() }

// nextSeq returns a number unique within the emulator; call with mu held.
func (e *Emulator) nextSeq() int { e.seq++; return e.seq }
