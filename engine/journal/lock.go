package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Holder says who holds a runbook's lock.
type Holder struct {
	Run     string    `json:"run"`
	User    string    `json:"user"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Since   time.Time `json:"since"`
	Runbook string    `json:"runbook"`
}

// String describes the holder for an operator.
func (h Holder) String() string {
	return fmt.Sprintf("run %s by %s on %s (pid %d) since %s", h.Run, h.User, h.Host, h.PID, h.Since.Format(time.RFC3339))
}

// LockedError is returned when another run holds the lock.
type LockedError struct{ Holder Holder }

func (e *LockedError) Error() string {
	return fmt.Sprintf("runbook %s is locked by %s", e.Holder.Runbook, e.Holder)
}

// fileLock is a held flock on DIR/locks/RUNBOOK.lock; the operating system
// releases it if the process dies, so a crashed run never leaves a stale
// lock behind.
type fileLock struct{ f *os.File }

// Acquire takes the lock of a runbook in a state folder, or returns
// *LockedError naming the holder.
func Acquire(stateDir string, h Holder) (Lock, error) {
	dir := filepath.Join(stateDir, "locks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, h.Runbook+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			var other Holder
			data, _ := os.ReadFile(f.Name())
			if json.Unmarshal(data, &other) != nil {
				other = Holder{Runbook: h.Runbook, Run: "unknown"}
			}
			other.Runbook = h.Runbook
			return nil, &LockedError{Holder: other}
		}
		return nil, fmt.Errorf("lock: %w", err)
	}
	data, _ := json.Marshal(h)
	if err := f.Truncate(0); err == nil {
		f.WriteAt(data, 0)
		f.Sync()
	}
	return &fileLock{f: f}, nil
}

// Release gives the lock up.
func (l *fileLock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.f.Truncate(0)
	err := l.f.Close()
	l.f = nil
	return err
}
