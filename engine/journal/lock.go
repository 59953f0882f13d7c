package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
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
type LockedError struct {
	Holder Holder
	// Note adds how the holder was found, when that is unusual.
	Note string
}

func (e *LockedError) Error() string {
	msg := fmt.Sprintf("runbook %s is locked by %s", e.Holder.Runbook, e.Holder)
	if e.Note != "" {
		msg += " (" + e.Note + ")"
	}
	return msg
}

// fileLock is a held flock on DIR/locks/RUNBOOK.lock; the operating system
// releases it if the process dies, so a crashed run never leaves a stale
// lock behind.
type fileLock struct{ f *os.File }

// Acquire takes the lock of a runbook in a state folder, or returns
// *LockedError naming the holder.
//
// Operators do delete lock files they take for stale. So that deleting or
// replacing DIR/locks/RUNBOOK.lock while a run holds it cannot let a second
// run in, the lock file is only the first gate: a run also holds an
// exclusive flock on its own journal while it writes it (see Writer), and
// Acquire, holding the lock file, refuses while any journal of the runbook
// is held. Journals are the record of what ran; nobody deletes them to
// clear a lock.
func Acquire(stateDir string, h Holder) (Lock, error) {
	l, err := acquireFile(stateDir, h)
	if err != nil {
		return nil, err
	}
	if err := journalsFree(stateDir, h.Runbook); err != nil {
		l.Release()
		return nil, err
	}
	return l, nil
}

// acquireFile takes the flock of the runbook's lock file. The file it
// locked must still be the one at the path: when another process replaced
// it in between, it tries again on the new one.
func acquireFile(stateDir string, h Holder) (*fileLock, error) {
	for {
		l, err := tryFile(stateDir, h)
		if err != errReplaced {
			return l, err
		}
	}
}

var errReplaced = errors.New("lock file replaced")

func tryFile(stateDir string, h Holder) (*fileLock, error) {
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
				// Someone emptied or rewrote the lock file: the run's
				// journal still names it.
				var le *LockedError
				if errors.As(journalsFree(stateDir, h.Runbook), &le) {
					le.Note = "its lock file was emptied or rewritten while it ran"
					return nil, le
				}
				other = Holder{Runbook: h.Runbook, Run: "unknown"}
			}
			other.Runbook = h.Runbook
			return nil, &LockedError{Holder: other}
		}
		return nil, fmt.Errorf("lock: %w", err)
	}
	if !sameFile(f) {
		f.Close()
		return nil, errReplaced
	}
	data, _ := json.Marshal(h)
	if err := f.Truncate(0); err == nil {
		f.WriteAt(data, 0)
		f.Sync()
	}
	return &fileLock{f: f}, nil
}

// Check implements Lock. A folder lock cannot be lost while its process
// lives: a deleted or replaced lock file does not free it (see Acquire).
func (l *fileLock) Check() error { return nil }

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

// sameFile reports whether the open file is still the one at its path.
func sameFile(f *os.File) bool {
	held, err := f.Stat()
	if err != nil {
		return false
	}
	now, err := os.Stat(f.Name())
	return err == nil && os.SameFile(held, now)
}

// runFile matches the journal file names of a runbook's runs (NewRunID in
// package run names them TIMESTAMP-RUNBOOK-RANDOM).
func runFile(runbook string) *regexp.Regexp {
	return regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z-` + regexp.QuoteMeta(runbook) + `-[0-9a-f]{6}\.jsonl$`)
}

// journalsFree returns *LockedError when a journal of the runbook is held
// by its writer: a run in progress whose lock file was deleted or replaced.
func journalsFree(stateDir, runbook string) error {
	entries, err := os.ReadDir(RunsDir(stateDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	match := runFile(runbook)
	for _, e := range entries {
		if !match.MatchString(e.Name()) {
			continue
		}
		if h, held := journalHeld(filepath.Join(RunsDir(stateDir), e.Name())); held {
			h.Runbook = runbook
			return &LockedError{Holder: h, Note: "its lock file was deleted or replaced while it ran; its journal is still open"}
		}
	}
	return nil
}

// journalHeld reports whether a journal's writer holds it, with the holder
// its first record names.
func journalHeld(path string) (Holder, bool) {
	f, err := os.Open(path)
	if err != nil {
		return Holder{}, false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
		return Holder{}, false // Close releases it
	} else if !errors.Is(err, syscall.EWOULDBLOCK) {
		return Holder{}, false
	}
	h := Holder{Run: strings.TrimSuffix(filepath.Base(path), ".jsonl"), User: "?", Host: "?"}
	first, _ := bufio.NewReader(f).ReadBytes('\n')
	var e Event
	if body, _, _ := unseal(bytes.TrimSpace(first)); json.Unmarshal(body, &e) == nil && e.Type == RunStarted {
		h.User, h.Since = e.User, e.Time
	}
	return h, true
}
