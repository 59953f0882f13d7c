package drill

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alpha-orion/runbook/internal/pgserver"
	"github.com/alpha-orion/runbook/plugins/contract/chain"
	"github.com/alpha-orion/runbook/plugins/neon/neonemu"
	"github.com/alpha-orion/runbook/plugins/render/renderemu"
)

// World holds the stand-ins of one drill. Each starts on first use, on
// loopback only, and Close stops them all.
type World struct {
	// Dir is a scratch folder for the drill (dumps, fixtures, state).
	Dir string

	mu      sync.Mutex
	closers []func() error

	memory map[string]any

	// pgTemplate, when set, is copied instead of running initdb.
	pgTemplate *pgserver.Template

	pg     *pgserver.Server
	neon   *neonemu.Emulator
	render *renderemu.Emulator
	app    *App
	chain  *chain.Chain

	// armed are a chaos drill's faults (arm), for ChaosReport.
	armed []armedFault

	// neonSkew shifts the Neon emulator's clock, so a scenario can stage
	// history (a snapshot of the data as it was) at a past moment.
	neonSkew atomic.Int64
}

// setNeonClock makes the Neon emulator's clock run d behind (d < 0) or ahead.
func (w *World) setNeonClock(d time.Duration) { w.neonSkew.Store(int64(d)) }

// NewWorld makes an empty world with its scratch folder.
func NewWorld() (*World, error) {
	dir, err := os.MkdirTemp("", "runbook-drill-")
	if err != nil {
		return nil, err
	}
	w := &World{Dir: dir}
	w.onClose(func() error { return os.RemoveAll(dir) })
	return w, nil
}

func (w *World) onClose(f func() error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closers = append(w.closers, f)
}

// Close stops every stand-in, newest first.
func (w *World) Close() error {
	w.mu.Lock()
	closers := w.closers
	w.closers = nil
	w.mu.Unlock()
	var errs []error
	for i := len(closers) - 1; i >= 0; i-- {
		if err := closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Postgres starts (once) a throwaway PostgreSQL server.
func (w *World) Postgres(ctx context.Context) (*pgserver.Server, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pg != nil {
		return w.pg, nil
	}
	pg, err := pgserver.Start(ctx, pgserver.Options{Template: w.pgTemplate, Dir: pgserver.MemoryDir()})
	if err != nil {
		return nil, fmt.Errorf("drill: start PostgreSQL: %w", err)
	}
	w.pg = pg
	w.closers = append(w.closers, pg.Stop)
	return pg, nil
}

// Neon starts (once) the Neon API emulator backed by the drill's PostgreSQL.
func (w *World) Neon(ctx context.Context) (*neonemu.Emulator, error) {
	pg, err := w.Postgres(ctx)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.neon != nil {
		return w.neon, nil
	}
	e := neonemu.New(neonemu.Options{Server: pg,
		Now: func() time.Time { return time.Now().Add(time.Duration(w.neonSkew.Load())) }})
	if _, err := e.Start(loopback()); err != nil {
		return nil, fmt.Errorf("drill: start Neon emulator: %w", err)
	}
	w.neon = e
	w.closers = append(w.closers, e.Close)
	return e, nil
}

// Render starts (once) the Render API emulator.
func (w *World) Render() (*renderemu.Emulator, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.render != nil {
		return w.render, nil
	}
	e := renderemu.New(renderemu.Options{})
	if _, err := e.Start(loopback()); err != nil {
		return nil, fmt.Errorf("drill: start Render emulator: %w", err)
	}
	w.render = e
	w.closers = append(w.closers, e.Close)
	return e, nil
}

// remember keeps a scenario's state between Setup and Verify.
func (w *World) remember(key string, v any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.memory == nil {
		w.memory = map[string]any{}
	}
	w.memory[key] = v
}

func (w *World) recall(key string) any {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.memory[key]
}

// loopback is a listen address on a free loopback port.
func loopback() string { return "127.0.0.1:0" }
