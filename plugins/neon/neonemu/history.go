package neonemu

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound reports an unknown project or branch in a Go-side call.
var ErrNotFound = errors.New("neonemu: not found")

// Snapshot records the branch's current data as a point of its history,
// labelled with the current time and WAL LSN: restores to a timestamp or LSN
// at or after it, and before the next point, bring this data back. Open
// sessions on the branch's database are ended, as the copy requires, unless
// Options.OnlineSnapshots is set.
func (e *Emulator) Snapshot(ctx context.Context, branchID string) (Snapshot, error) {
	e.pgMu.Lock()
	defer e.pgMu.Unlock()
	e.mu.Lock()
	b := e.branches[branchID]
	e.mu.Unlock()
	if b == nil {
		return Snapshot{}, fmt.Errorf("%w: branch %q", ErrNotFound, branchID)
	}
	s, err := e.snapshot(ctx, b)
	if err != nil {
		return Snapshot{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	b.history = append(b.history, s)
	return s, nil
}

// snapshot copies b's database into a new snapshot database; call with pgMu held.
func (e *Emulator) snapshot(ctx context.Context, b *branch) (Snapshot, error) {
	e.mu.Lock()
	s := Snapshot{ID: "snap-" + wordID(""), BranchID: b.ID}
	src := b.database
	name := e.dbName("snap", e.nextSeq())
	e.mu.Unlock()
	if e.pg == nil {
		s.Time, s.LSN = e.now(), e.nextFakeLSN()
		return s, nil
	}
	lsn, err := e.currentLSN(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	s.Time, s.LSN, s.Database = e.now(), lsn, name
	copyDB := e.pg.CloneDatabase
	if e.opts.OnlineSnapshots {
		copyDB = e.pg.CopyDatabase
	}
	if err := copyDB(ctx, name, src); err != nil {
		return Snapshot{}, fmt.Errorf("neonemu: snapshot branch %q: %w", b.ID, err)
	}
	e.own(name)
	return s, nil
}

// snapshotLoop snapshots every branch every d until Close.
func (e *Emulator) snapshotLoop(d time.Duration) {
	defer e.bg.Done()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		e.mu.Lock()
		var ids []string
		for _, p := range e.projects {
			for _, b := range p.branches {
				ids = append(ids, b.ID)
			}
		}
		e.mu.Unlock()
		for _, id := range ids {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if _, err := e.Snapshot(ctx, id); err != nil && e.opts.Logf != nil {
				e.opts.Logf("neonemu: scheduled snapshot: %v", err)
			}
			cancel()
		}
	}
}

// currentLSN reads the server's WAL position.
func (e *Emulator) currentLSN(ctx context.Context) (string, error) {
	conn, err := e.pg.Connect(ctx, "postgres")
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	var lsn string
	if err := conn.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&lsn); err != nil {
		return "", fmt.Errorf("neonemu: read WAL position: %w", err)
	}
	return lsn, nil
}

// nextFakeLSN hands out increasing LSNs when there is no server.
func (e *Emulator) nextFakeLSN() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fakeLSN += 0x1000
	return formatLSN(0x1000000 + e.fakeLSN)
}

// parseLSN parses PostgreSQL's "X/Y" (hex) WAL position.
func parseLSN(s string) (uint64, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("LSN %q: want X/Y", s)
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("LSN %q: %w", s, err)
	}
	return h<<32 | l, nil
}

// formatLSN prints a WAL position as "X/Y".
func formatLSN(v uint64) string { return fmt.Sprintf("%X/%X", v>>32, v&0xffffffff) }

// dbName names a database of this emulator after an ID and a generation
// (0 for the first; negative for a temporary one).
func (e *Emulator) dbName(id string, gen int) string {
	base := "neonemu_" + e.tag + "_" + strings.NewReplacer("br-", "", "-", "_").Replace(id)
	switch {
	case gen > 0:
		return fmt.Sprintf("%s_g%d", base, gen)
	case gen < 0:
		return base + "_old"
	}
	return base
}

// own records that the emulator created database name, so Close drops it.
func (e *Emulator) own(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.owned[name] = true
}
