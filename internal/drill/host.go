package drill

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/alpha-orion/runbook/internal/pgserver"
	"github.com/alpha-orion/runbook/internal/redisserver"
	"github.com/alpha-orion/runbook/internal/sandbox"
)

// Host serves drills to `runbook drill` (see package sandbox): one staged
// drill at a time, each in a fresh World. PostgreSQL's initdb runs once per
// Host; every drill's server starts from a copy of that data folder. Given
// the order of the drills to come (Queue), the Host stages the next drill
// in the background while the current one runs, so set-up does not add to
// the wall time of `drill --all`.
//
// Its methods are called one at a time by sandbox.Serve; mu guards the
// fields against the background staging and Close from a signal handler.
type Host struct {
	mu       sync.Mutex
	world    *World
	scenario *Scenario
	stage    *Stage
	template *pgserver.Template
	queue    []string   // the drills still to come, in order
	next     *prestaged // the drill being staged ahead, if any
}

// prestaged is a drill staged ahead of its turn; done closes when it is.
type prestaged struct {
	runbook string
	done    chan struct{}
	world   *World
	sc      *Scenario
	st      *Stage
	err     error
}

// Drills lists every scenario.
func (h *Host) Drills() []sandbox.Drill {
	var out []sandbox.Drill
	for _, name := range Names() {
		out = append(out, sandbox.Drill{Runbook: name, Needs: scenarios[name].Needs})
	}
	return out
}

// Queue tells the order of the drills to come, and starts staging the
// first.
func (h *Host) Queue(runbooks []string) {
	h.mu.Lock()
	h.queue = append([]string(nil), runbooks...)
	h.mu.Unlock()
	h.prestageNext()
}

// prestageNext stages the next queued drill in the background, unless one
// is being staged already.
func (h *Host) prestageNext() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.next != nil || len(h.queue) == 0 {
		return
	}
	p := &prestaged{runbook: h.queue[0], done: make(chan struct{})}
	h.next = p
	go func() {
		defer close(p.done)
		p.world, p.sc, p.st, p.err = h.build(context.Background(), p.runbook)
	}()
}

// takeNext returns the drill staged ahead when it is runbook's, waiting for
// its staging to end; any other staged-ahead drill is stopped.
func (h *Host) takeNext(runbook string) *prestaged {
	h.mu.Lock()
	p := h.next
	h.next = nil
	if len(h.queue) > 0 && h.queue[0] == runbook {
		h.queue = h.queue[1:]
	} else {
		h.queue = nil // the core went off the plan: stage on demand
	}
	h.mu.Unlock()
	if p == nil {
		return nil
	}
	<-p.done
	if p.runbook != runbook {
		if p.world != nil {
			p.world.Close()
		}
		return nil
	}
	return p
}

// Stage starts a fresh world for runbook's scenario and stages its
// incident, or takes the one staged ahead.
func (h *Host) Stage(ctx context.Context, runbook string) (*sandbox.Stage, error) {
	if err := h.CloseDrill(); err != nil {
		return nil, err
	}
	var w *World
	var sc *Scenario
	var st *Stage
	var err error
	if p := h.takeNext(runbook); p != nil {
		w, sc, st, err = p.world, p.sc, p.st, p.err
	} else {
		w, sc, st, err = h.build(ctx, runbook)
	}
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.world, h.scenario, h.stage = w, sc, st
	h.mu.Unlock()
	h.prestageNext()
	return st, nil
}

// build starts a world for runbook's scenario and stages its incident; on
// failure nothing of it is left running.
func (h *Host) build(ctx context.Context, runbook string) (*World, *Scenario, *Stage, error) {
	sc, ok := Lookup(runbook)
	if !ok {
		return nil, nil, nil, fmt.Errorf("no drill scenario for %q (have: %s)", runbook, strings.Join(Names(), ", "))
	}
	for _, p := range sc.Needs {
		if err := Need(p); err != nil {
			return nil, nil, nil, &sandbox.MissingError{Program: p, Reason: err.Error()}
		}
	}
	w, err := NewWorld()
	if err != nil {
		return nil, nil, nil, err
	}
	if hasNeed(sc, "postgres") {
		t, err := h.pgTemplate(ctx)
		if err != nil {
			w.Close()
			return nil, nil, nil, err
		}
		w.pgTemplate = t
	}
	st, err := sc.Setup(ctx, w)
	if err != nil {
		w.Close()
		return nil, nil, nil, fmt.Errorf("staging failed: %w", err)
	}
	st.StateDir = filepath.Join(w.Dir, "state")
	return w, sc, st, nil
}

// Verify checks the staged drill's end state.
func (h *Host) Verify(ctx context.Context) ([]sandbox.Check, error) {
	h.mu.Lock()
	w, sc, st := h.world, h.scenario, h.stage
	h.mu.Unlock()
	if st == nil {
		return nil, errors.New("verify: no drill is staged")
	}
	w.disarm()
	checks := sc.Verify(ctx, w, st)
	if safe := safeChecks[sc.Runbook]; safe != nil {
		for _, c := range safe(ctx, w, st) {
			c.Safe = true
			checks = append(checks, c)
		}
	}
	return checks, nil
}

// CloseDrill stops the staged drill's stand-ins, if any.
func (h *Host) CloseDrill() error {
	h.mu.Lock()
	w := h.world
	h.world, h.scenario, h.stage = nil, nil, nil
	h.mu.Unlock()
	if w == nil {
		return nil
	}
	return w.Close()
}

// Close stops the staged drill and the one staged ahead, and removes the
// PostgreSQL template.
func (h *Host) Close() error {
	err := h.CloseDrill()
	h.mu.Lock()
	p := h.next
	h.next, h.queue = nil, nil
	h.mu.Unlock()
	if p != nil {
		<-p.done
		if p.world != nil {
			err = errors.Join(err, p.world.Close())
		}
	}
	h.mu.Lock()
	t := h.template
	h.template = nil
	h.mu.Unlock()
	if t != nil {
		err = errors.Join(err, t.Close())
	}
	return err
}

// pgTemplate runs initdb the first time a drill needs PostgreSQL.
func (h *Host) pgTemplate(ctx context.Context) (*pgserver.Template, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.template == nil {
		t, err := pgserver.NewTemplate(ctx, pgserver.Options{Dir: pgserver.MemoryDir()})
		if err != nil {
			return nil, fmt.Errorf("drill: initdb: %w", err)
		}
		h.template = t
	}
	return h.template, nil
}

func hasNeed(sc *Scenario, program string) bool {
	for _, n := range sc.Needs {
		if n == program {
			return true
		}
	}
	return false
}

// Need reports a missing local program with how to install it.
func Need(program string) error {
	switch program {
	case "postgres":
		if _, err := pgserver.FindBinDir(""); err != nil {
			return err
		}
	case "terraform":
		if _, err := exec.LookPath("terraform"); err != nil {
			return errors.New("terraform is not installed: put the terraform binary on PATH (it is not in Debian's archive; see terraform's own install page)")
		}
	case "redis-server":
		if _, err := redisserver.FindBinary(""); err != nil {
			return errors.New("redis-server is not installed: apt-get install redis-server")
		}
	case "curl", "jq": // the render-region fixture's provisioners call the APIs with them
		if _, err := exec.LookPath(program); err != nil {
			return fmt.Errorf("%s is not installed: apt-get install %s", program, program)
		}
	}
	return nil
}
