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
)

// Writer appends events to one run's journal file. It is safe for concurrent use.
type Writer struct {
	mu     sync.Mutex
	f      *os.File
	seq    int
	redact *redact.Redactor
	now    func() time.Time
	// dirty is true when events were written since the last fsync.
	dirty bool
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
	line, err := json.Marshal(e)
	if err != nil {
		return e, fmt.Errorf("journal: encode %s: %w", e.Type, err)
	}
	line = append([]byte(w.redact.String(string(line))), '\n')
	if _, err := w.f.Write(line); err != nil {
		return e, fmt.Errorf("journal: write: %w", err)
	}
	w.dirty = true
	if durable {
		if err := w.f.Sync(); err != nil {
			return e, fmt.Errorf("journal: fsync: %w", err)
		}
		w.dirty = false
	}
	return e, nil
}

// Sync makes every written event durable.
func (w *Writer) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.dirty {
		return nil
	}
	w.dirty = false
	return w.f.Sync()
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

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
