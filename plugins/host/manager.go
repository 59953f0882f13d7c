// Package host is the engine's side of the plugin protocol: it starts plugin
// processes, keeps them for the run, and turns their failures into errors
// with a kind the interpreter can act on.
//
// A Manager serves one run. It starts a plugin the first time a step needs
// it (or when Start asks for several at once, in parallel), at most once,
// and reuses the process for every later step. Shipped providers are
// executables installed with the core (see Options.Providers); third-party
// plugins are files in a folder, each pinned by its SHA-256. A plugin that dies during a call fails that call with
// sdk.KindCrashed; the next call starts a fresh process.
package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// Options configures a Manager.
type Options struct {
	// Providers names the plugins shipped with runbook. Provider NAME is
	// the executable ExternalPrefix+NAME, looked for in Search, then in
	// Dir, then on PATH, and started without a pin: it is part of the
	// installation, like the core itself.
	Providers []string
	// Search lists the folders to look for provider executables in
	// before Dir; the CLI gives the folder of its own executable.
	Search []string
	// Builtins names plugins that Executable serves itself, re-executed
	// with BuiltinArgs. Tests use it to serve plugins from the test binary.
	Builtins []string
	// Executable is the binary that serves Builtins; empty means
	// os.Executable().
	Executable string
	// BuiltinArgs returns the arguments that make Executable serve the
	// plugin name; nil means {PluginArg, name}.
	BuiltinArgs func(name string) []string
	// Dir holds the third-party plugins: plugin NAME is the file
	// ExternalPrefix+NAME in it, started only if pinned.
	Dir string
	// Pins maps an external plugin's name to the SHA-256 (hex) its file
	// must have. An external plugin without a pin is not started.
	Pins map[string]string
	// Config maps a plugin's name to its configuration, secrets included.
	// Each process of the plugin receives it once, right after it starts.
	Config map[string]map[string]any
	// Catalog, when set, is checked against each plugin's description of
	// itself, so a plugin that changed since the catalogue was built is
	// refused rather than misused.
	Catalog *catalog.Catalog
	// Log receives go-plugin's and the plugins' own warnings and errors,
	// and whatever a plugin prints; nil discards them.
	Log io.Writer
	// StartTimeout bounds each of a plugin's start and handshake, and its
	// first Describe and Configure; 0 means 30s.
	StartTimeout time.Duration
	// Env maps a plugin's name to the further variables of the engine's
	// environment it receives (a name ending in * is a prefix). A plugin
	// starts with BaseEnv, these, and the variables its config names in a
	// setting whose key ends in `_env`; never anything else, so never a
	// RUNBOOK_SECRET_* variable it was not explicitly given.
	Env map[string][]string
	// CacheDir is the private folder third-party plugins are copied into,
	// each under its SHA-256, and run from; empty means the user's cache
	// folder (runbook/plugins in os.UserCacheDir).
	CacheDir string
	// OnStart, when set, is called each time a plugin process has started
	// and completed the handshake, before it is described and configured.
	OnStart func(name string, pid int)
}

// Manager starts and keeps the plugins of one run. It is safe for
// concurrent use; Close kills every plugin it started.
type Manager struct {
	opts   Options
	logger hclog.Logger
	out    io.Writer

	tlsOnce sync.Once
	tls     *sdk.HostTLS // the mutual TLS identities, made on the first start
	tlsErr  error

	mu       sync.Mutex
	closed   bool
	slots    map[string]*slot
	launches map[*proc]bool // processes still being started
}

// hostTLS returns the run's TLS identities, made once.
func (m *Manager) hostTLS() (*sdk.HostTLS, error) {
	m.tlsOnce.Do(func() { m.tls, m.tlsErr = sdk.NewHostTLS() })
	return m.tls, m.tlsErr
}

// slot holds one plugin's current process.
type slot struct {
	sem chan struct{} // held while the process is being started

	mu  sync.Mutex
	cur *proc
	err error // a start failure that will not go away by retrying
}

// proc is one running plugin process.
type proc struct {
	client *plugin.Client
	rpc    *sdk.Client
	spec   catalog.Plugin
	out    []*lineWriter // its stdout and stderr

	mu  sync.Mutex
	run *procRunner
}

func (p *proc) setRunner(r *procRunner) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.run = r
}

// pid is the process id, 0 before it starts.
func (p *proc) pid() int {
	p.mu.Lock()
	r := p.run
	p.mu.Unlock()
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pid
}

// abort kills the process at once, even in its handshake, then as kill.
func (p *proc) abort() {
	p.mu.Lock()
	r := p.run
	p.mu.Unlock()
	if r != nil {
		r.stop()
	}
	p.kill()
}

// kill stops the process, waits for it, and passes on its last output.
func (p *proc) kill() {
	p.client.Kill()
	for _, w := range p.out {
		w.flush()
	}
}

// starting registers (on) or forgets a process being started, so Close
// can kill it; it reports false, registering nothing, once closed.
func (m *Manager) starting(p *proc, on bool) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !on {
		delete(m.launches, p)
		return true
	}
	if m.closed {
		return false
	}
	if m.launches == nil {
		m.launches = map[*proc]bool{}
	}
	m.launches[p] = true
	return true
}

// New returns a Manager; it starts nothing until a plugin is needed.
func New(opts Options) *Manager {
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 30 * time.Second
	}
	m := &Manager{opts: opts, slots: map[string]*slot{}, out: io.Discard, logger: hclog.NewNullLogger()}
	if opts.Log != nil {
		m.out = &lockedWriter{w: opts.Log}
		m.logger = hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: m.out, Level: hclog.Warn})
	}
	return m
}

// ErrClosed is returned, with kind sdk.KindCanceled, by calls made after Close.
var ErrClosed = errors.New("plugin manager is closed")

var errClosed = sdk.WithKind(sdk.KindCanceled, ErrClosed)

// Start starts the named plugins that are not running yet, in parallel,
// and waits for them. Calls start plugins on their own, so Start is only a
// way to pay the start-up cost early and at once.
func (m *Manager) Start(ctx context.Context, names ...string) error {
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = m.acquire(ctx, name)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Describe returns the named plugin's description of itself.
func (m *Manager) Describe(ctx context.Context, name string) (catalog.Plugin, error) {
	p, err := m.acquire(ctx, name)
	if err != nil {
		return catalog.Plugin{}, err
	}
	return p.spec, nil
}

// Plan asks the named plugin what a step would do.
func (m *Manager) Plan(ctx context.Context, name string, req sdk.Request) (sdk.Plan, error) {
	p, err := m.acquire(ctx, name)
	if err != nil {
		return sdk.Plan{}, err
	}
	plan, err := p.rpc.Plan(ctx, req)
	return plan, m.after(name, p, err)
}

// Execute runs one attempt of a step on the named plugin. onLog (may be
// nil) receives the step's log lines as they come. When the plugin dies
// during the call the error has kind sdk.KindCrashed, and the next call
// starts a new process.
func (m *Manager) Execute(ctx context.Context, name string, req sdk.Request, onLog func(sdk.LogLine)) (map[string]any, error) {
	p, err := m.acquire(ctx, name)
	if err != nil {
		return nil, err
	}
	out, err := p.rpc.Execute(ctx, req, onLog)
	return out, m.after(name, p, err)
}

// Reconcile asks the named plugin whether the step with
// req.IdempotencyKey already took effect.
func (m *Manager) Reconcile(ctx context.Context, name string, req sdk.Request) (sdk.Reconciliation, error) {
	p, err := m.acquire(ctx, name)
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	rec, err := p.rpc.Reconcile(ctx, req)
	return rec, m.after(name, p, err)
}

// Close kills every plugin process the Manager started, those still in
// their handshake included, and waits for them to exit. Later calls fail
// with ErrClosed.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	var procs, launching []*proc
	for p := range m.launches {
		launching = append(launching, p)
	}
	for _, s := range m.slots {
		s.mu.Lock()
		if s.cur != nil {
			procs = append(procs, s.cur)
			s.cur = nil
		}
		s.mu.Unlock()
	}
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range launching {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.abort()
		}()
	}
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.kill()
		}()
	}
	wg.Wait()
	return nil
}

// acquire returns the named plugin's live process, starting one if needed.
// Concurrent callers for the same plugin wait for a single start.
func (m *Manager) acquire(ctx context.Context, name string) (*proc, error) {
	s, err := m.slot(name)
	if err != nil {
		return nil, err
	}
	if p, err := s.ready(); p != nil || err != nil {
		return p, err
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, sdk.WithKind(sdk.KindOf(ctx.Err()), ctx.Err())
	}
	defer func() { <-s.sem }()
	if p, err := s.ready(); p != nil || err != nil {
		return p, err // another caller started it, or failed for good
	}
	s.mu.Lock()
	dead := s.cur
	s.cur = nil
	s.mu.Unlock()
	if dead != nil {
		dead.kill()
	}
	p, err := m.launch(ctx, name)
	if err != nil {
		if k := sdk.KindOf(err); !k.Retryable() && k != sdk.KindCanceled {
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
		}
		return nil, err
	}
	m.mu.Lock()
	closed := m.closed
	if !closed {
		s.mu.Lock()
		s.cur = p
		s.mu.Unlock()
	}
	m.mu.Unlock()
	if closed {
		p.kill()
		return nil, errClosed
	}
	return p, nil
}

func (m *Manager) slot(name string) (*slot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errClosed
	}
	s, ok := m.slots[name]
	if !ok {
		s = &slot{sem: make(chan struct{}, 1)}
		m.slots[name] = s
	}
	return s, nil
}

// ready returns the live process, or the start failure to repeat, or neither.
func (s *slot) ready() (*proc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	if s.cur != nil && !s.cur.client.Exited() {
		return s.cur, nil
	}
	return nil, nil
}

// after inspects a call's error: when the process died, it is killed and
// forgotten so the next call starts a new one, and the error says CRASHED.
func (m *Manager) after(name string, p *proc, err error) error {
	if err == nil {
		return nil
	}
	kind := sdk.KindOf(err)
	if kind != sdk.KindCrashed && !p.client.Exited() {
		return err
	}
	m.mu.Lock()
	if s := m.slots[name]; s != nil {
		s.mu.Lock()
		if s.cur == p {
			s.cur = nil
		}
		s.mu.Unlock()
	}
	m.mu.Unlock()
	p.kill()
	if kind != sdk.KindCrashed && kind != sdk.KindUnknown {
		return err // e.g. cancelled just as the process died
	}
	return sdk.WithKind(sdk.KindCrashed, fmt.Errorf("plugin %s crashed: %w", name, err))
}

// lockedWriter lets several plugins' loggers share one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Write writes p whole before another writer may.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
