package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/engine/redact"
	"golang.org/x/sys/unix"
)

// Writer appends events to one run's journal file. It is safe for concurrent
// use; concurrent durable writes share fsyncs (group commit).
type Writer struct {
	mu     sync.Mutex
	f      *os.File
	seq    int
	redact *redact.Redactor
	now    func() time.Time

	// syncMu serialises fsyncs; synced is the last seq known to be on disk.
	syncMu sync.Mutex
	synced int
}

// ErrNotFound is returned for a run id with no journal.
var ErrNotFound = errors.New("no such run")

// RunsDir is the folder of the journals inside a state folder.
func RunsDir(stateDir string) string { return filepath.Join(stateDir, "runs") }

// Path returns the journal file of a run.
func Path(stateDir, runID string) string { return filepath.Join(RunsDir(stateDir), runID+".jsonl") }

// Create starts the journal of a new run.
func Create(stateDir, runID string, r *redact.Redactor) (*Writer, error) {
	if err := os.MkdirAll(RunsDir(stateDir), 0o700); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	f, err := os.OpenFile(Path(stateDir, runID), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if err := syncDir(RunsDir(stateDir)); err != nil {
		f.Close()
		return nil, err
	}
	return &Writer{f: f, redact: r, now: time.Now}, nil
}

// Append opens an existing run's journal to continue it; seq continues from
// the last event read.
func Append(stateDir, runID string, lastSeq int, r *redact.Redactor) (*Writer, error) {
	f, err := os.OpenFile(Path(stateDir, runID), os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("journal: run %s: %w", runID, ErrNotFound)
		}
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &Writer{f: f, seq: lastSeq, redact: r, now: time.Now}, nil
}

// Write appends an event; with durable set it is on disk when Write returns
// (and so is every event before it). Secret values are masked first.
func (w *Writer) Write(e Event, durable bool) (Event, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	e.Seq = w.seq
	if e.Time.IsZero() {
		e.Time = w.now().UTC()
	}
	line, err := json.Marshal(mask(w.redact, e))
	if err != nil {
		return e, fmt.Errorf("journal: encode %s: %w", e.Type, err)
	}
	line = append(line, '\n')
	if _, err := w.f.Write(line); err != nil {
		return e, fmt.Errorf("journal: write: %w", err)
	}
	w.mu.Unlock()
	if durable {
		if err := w.syncTo(e.Seq); err != nil {
			return e, err
		}
	}
	w.mu.Lock()
	return e, nil
}

// syncTo makes events up to seq durable. A caller that finds its event
// already covered by another goroutine's fsync returns at once.
func (w *Writer) syncTo(seq int) error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	if w.synced >= seq {
		return nil
	}
	w.mu.Lock()
	upTo := w.seq
	w.mu.Unlock()
	if err := datasync(w.f); err != nil {
		return fmt.Errorf("journal: fsync: %w", err)
	}
	w.synced = upTo
	return nil
}

// Sync makes every written event durable.
func (w *Writer) Sync() error {
	w.mu.Lock()
	seq := w.seq
	w.mu.Unlock()
	return w.syncTo(seq)
}

// Close syncs and closes the journal.
func (w *Writer) Close() error {
	if err := w.Sync(); err != nil {
		w.f.Close()
		return err
	}
	return w.f.Close()
}

// Read returns a run's events. A torn last line (a crash mid-write) is ignored.
func Read(stateDir, runID string) ([]Event, error) {
	data, err := os.ReadFile(Path(stateDir, runID))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("run %q: %w (runs are in %s)", runID, ErrNotFound, RunsDir(stateDir))
		}
		return nil, err
	}
	return Parse(data)
}

// Parse decodes journal lines.
func Parse(data []byte) ([]Event, error) {
	var out []Event
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(b, &e); err != nil {
			if !bytes.HasSuffix(data, []byte("\n")) && isLast(data, b) {
				break // torn final write
			}
			return out, fmt.Errorf("journal line %d: %w", line, err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

func isLast(data, line []byte) bool {
	return bytes.HasSuffix(bytes.TrimRight(data, "\n"), line)
}

// List returns the ids of every run in a state folder, oldest first.
func List(stateDir string) ([]string, error) {
	entries, err := os.ReadDir(RunsDir(stateDir))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".jsonl"); ok {
			ids = append(ids, name)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// datasync flushes the file's data and the metadata needed to read it back
// (its size), which is all an append-only journal needs; on Linux fdatasync
// is about three times cheaper than fsync because it skips timestamps.
func datasync(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
