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
// Host; every drill's server starts from a copy of that data folder.
//
// Its methods are called one at a time by sandbox.Serve; mu guards the
// fields against Close from a signal handler.
type Host struct {
	mu       sync.Mutex
	world    *World
	scenario *Scenario
	stage    *Stage
	template *pgserver.Template
}

// Drills lists every scenario.
func (h *Host) Drills() []sandbox.Drill {
	var out []sandbox.Drill
	for _, name := range Names() {
		out = append(out, sandbox.Drill{Runbook: name, Needs: scenarios[name].Needs})
	}
	return out
}

// Stage starts a fresh world for runbook's scenario and stages its incident.
func (h *Host) Stage(ctx context.Context, runbook string) (*sandbox.Stage, error) {
	if err := h.CloseDrill(); err != nil {
		return nil, err
	}
	sc, ok := Lookup(runbook)
	if !ok {
		return nil, fmt.Errorf("no drill scenario for %q (have: %s)", runbook, strings.Join(Names(), ", "))
	}
	for _, p := range sc.Needs {
		if err := Need(p); err != nil {
			return nil, &sandbox.MissingError{Program: p, Reason: err.Error()}
		}
	}
	w, err := NewWorld()
	if err != nil {
		return nil, err
	}
	if hasNeed(sc, "postgres") {
		t, err := h.pgTemplate(ctx)
		if err != nil {
			w.Close()
			return nil, err
		}
		w.pgTemplate = t
	}
	h.mu.Lock()
	h.world, h.scenario = w, sc
	h.mu.Unlock()
	st, err := sc.Setup(ctx, w)
	if err != nil {
		return nil, fmt.Errorf("staging failed: %w", err)
	}
	st.StateDir = filepath.Join(w.Dir, "state")
	h.mu.Lock()
	h.stage = st
	h.mu.Unlock()
	return st, nil
}

// Verify checks the staged drill's end state.
func (h *Host) Verify(ctx context.Context) ([]sandbox.Check, error) {
	h.mu.Lock()
	w, sc, st := h.world, h.scenario, h.stage
	h.mu.Unlock()
	if st == nil {
		return nil, errors.New("verify: no drill is staged")
	}
	return sc.Verify(ctx, w, st), nil
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

// Close stops the staged drill and removes the PostgreSQL template.
func (h *Host) Close() error {
	err := h.CloseDrill()
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
	}
	return nil
}
