package journal

import (
	"context"
	"errors"
	"strings"

	"github.com/alpha-orion/runbook/engine/redact"
)

// Store keeps the journals and locks of runs: a local folder (Folder) or a
// PostgreSQL database shared by a team (Postgres). Every method takes ctx
// first; implementations are safe for concurrent use.
type Store interface {
	// Create starts the journal of a new run; it fails if the run exists.
	Create(ctx context.Context, runID string, r *redact.Redactor) (Log, error)
	// Append continues a run's journal after its event lastSeq; it returns
	// an error wrapping ErrNotFound for an unknown run.
	Append(ctx context.Context, runID string, lastSeq int, r *redact.Redactor) (Log, error)
	// Read returns a run's events in order; ErrNotFound for an unknown run.
	Read(ctx context.Context, runID string) ([]Event, error)
	// List returns the ids of every run, oldest first.
	List(ctx context.Context) ([]string, error)
	// Acquire takes a runbook's lock, or returns *LockedError naming the holder.
	// A holder that dies without releasing it does not keep it.
	Acquire(ctx context.Context, h Holder) (Lock, error)
	// String says where the state is, for messages (without passwords).
	String() string
	// Close releases the store's resources.
	Close() error
}

// Log appends events to one run's journal.
type Log interface {
	// Write appends an event and returns it with its seq and time; with
	// durable set it is stored when Write returns, and so is every event
	// before it. Secret values are masked first.
	Write(e Event, durable bool) (Event, error)
	// Sync makes every written event durable.
	Sync() error
	// Close syncs and closes the journal.
	Close() error
}

// Lock is a held runbook lock.
type Lock interface {
	// Check returns nil while the lock is held, and an error wrapping
	// ErrLockLost once it is not: a run checks before starting each step.
	Check() error
	// Release gives the lock up.
	Release() error
}

// ErrLockLost wraps the error of a holder whose lock is gone: its session
// ended, or another run took the lock over.
var ErrLockLost = errors.New("lock lost")

// Fencer is a Log that can be bound to the lock its run holds: from then on
// the store refuses its writes, with ErrLockLost, once that lock is gone.
type Fencer interface {
	Fence(l Lock)
}

// IsPostgres reports whether a --state value names a PostgreSQL database
// rather than a folder.
func IsPostgres(state string) bool {
	return strings.HasPrefix(state, "postgres://") || strings.HasPrefix(state, "postgresql://")
}

// Open returns the store a --state value names: a postgres:// or
// postgresql:// URL is a PostgreSQL database (its schema is created or
// migrated on the way), anything else a folder.
func Open(ctx context.Context, state string) (Store, error) {
	if IsPostgres(state) {
		return OpenPostgres(ctx, state)
	}
	return Folder(state), nil
}
