package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
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
// use; concurrent durable writes share fsyncs (group commit). The Writer
// holds an exclusive flock on its file while open, so no other process
// appends to the same run, and a runbook lock whose file an operator
// deleted still finds the run in progress (see Acquire).
//
// A failed write or fsync is sticky: the file may hold a fragment, or data
// the kernel dropped, so every later Write and Sync fails with the first
// error (wrapping ErrUnavailable) and nothing more is appended.
type Writer struct {
	mu     sync.Mutex // guards f's appends, seq and err
	f      *os.File
	seq    int
	err    error
	redact *redact.Redactor
	now    func() time.Time
	// pending is a new journal's hidden name until its first record is
	// durable; final is its name from then on (see Create).
	pending, final string

	// syncMu serialises fsyncs; synced is the last seq known to be on disk.
	syncMu sync.Mutex
	synced int
}

// ErrNotFound is returned for a run id with no journal.
var ErrNotFound = errors.New("no such run")

// ErrUnavailable wraps every error of a journal that can no longer be
// written: a failed write or fsync, a lost connection.
var ErrUnavailable = errors.New("journal unavailable")

// ErrBusy is returned when another process writes the run's journal.
var ErrBusy = errors.New("the run's journal is open in another process")

// RunsDir is the folder of the journals inside a state folder.
func RunsDir(stateDir string) string { return filepath.Join(stateDir, "runs") }

// Path returns the journal file of a run.
func Path(stateDir, runID string) string { return filepath.Join(RunsDir(stateDir), runID+".jsonl") }

// Create starts the journal of a new run. The journal appears under its
// name only with its first record whole and durable: until then it is a
// hidden file (.ID.jsonl.new) that List does not show, so a crash before
// the first record leaves no journal that cannot be read.
func Create(stateDir, runID string, r *redact.Redactor) (*Writer, error) {
	if err := os.MkdirAll(RunsDir(stateDir), 0o700); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	final := Path(stateDir, runID)
	if _, err := os.Lstat(final); err == nil {
		return nil, fmt.Errorf("journal: run %s: %w", runID, os.ErrExist)
	}
	tmp := filepath.Join(RunsDir(stateDir), "."+runID+".jsonl.new")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if err := flockWriter(f, runID); err != nil {
		f.Close()
		return nil, err
	}
	return &Writer{f: f, redact: r, now: time.Now, pending: tmp, final: final}, nil
}

// publish gives a new journal its name once its first record is durable;
// link fails, as O_EXCL would, when the name is taken. Callers hold mu.
func (w *Writer) publish() error {
	if err := datasync(w.f); err != nil {
		return err
	}
	if err := os.Link(w.pending, w.final); err != nil {
		return err
	}
	os.Remove(w.pending)
	if err := syncDir(filepath.Dir(w.final)); err != nil {
		return err
	}
	w.pending = ""
	return nil
}

// Append opens an existing run's journal to continue it after its event
// lastSeq. It checks the whole file first: damage anywhere is refused with
// its line, and the journal is never appended to; a torn final record (a
// crash mid-write) is cut back to the last whole record and a
// journal_repaired event says so before anything else is appended.
func Append(stateDir, runID string, lastSeq int, r *redact.Redactor) (*Writer, error) {
	f, err := os.OpenFile(Path(stateDir, runID), os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("journal: run %s: %w", runID, ErrNotFound)
		}
		return nil, fmt.Errorf("journal: %w", err)
	}
	w := &Writer{f: f, redact: r, now: time.Now, final: f.Name()}
	if err := w.open(runID, lastSeq); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// open locks, checks and if need be repairs the journal Append opened.
func (w *Writer) open(runID string, lastSeq int) error {
	if err := flockWriter(w.f, runID); err != nil {
		return err
	}
	data, err := io.ReadAll(io.NewSectionReader(w.f, 0, 1<<62))
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	p, err := scan(data)
	if err != nil {
		return fmt.Errorf("journal %s: %w; refusing to append to a damaged journal", w.f.Name(), err)
	}
	if n := len(p.events); n != lastSeq || (n > 0 && p.events[n-1].Seq != lastSeq) {
		return fmt.Errorf("journal: run %s has %d events, not %d as read: %w", runID, n, lastSeq, ErrSeqConflict)
	}
	w.seq, w.synced = lastSeq, lastSeq
	if p.torn == 0 {
		return nil
	}
	if err := w.f.Truncate(int64(p.whole)); err != nil {
		return fmt.Errorf("journal: cut torn record: %w", err)
	}
	if err := datasync(w.f); err != nil {
		return fmt.Errorf("journal: cut torn record: %w", err)
	}
	msg := fmt.Sprintf("cut a torn final record of %d bytes (line %d), left by a crash mid-write", p.torn, p.lines+1)
	_, err = w.Write(Event{Type: JournalRepaired, Message: msg}, true)
	return err
}

// flockWriter takes the writer's exclusive lock on a journal file. It
// waits up to busyWait for a holder that is only probing it (see Acquire);
// a writer holds it for as long as its run goes on.
func flockWriter(f *os.File, runID string) error {
	deadline := time.Now().Add(busyWait)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, unix.EWOULDBLOCK):
			return fmt.Errorf("journal: lock %s: %w", f.Name(), err)
		case time.Now().After(deadline):
			return fmt.Errorf("journal: run %s: %w", runID, ErrBusy)
		}
		time.Sleep(busyWait / 50)
	}
}

// busyWait is how long a writer waits for a journal another process has.
const busyWait = time.Second

// Write appends an event; with durable set it is on disk when Write returns
// (and so is every event before it). Secret values are masked first.
func (w *Writer) Write(e Event, durable bool) (Event, error) {
	w.mu.Lock()
	if w.err != nil {
		w.mu.Unlock()
		return e, w.err
	}
	w.seq++
	e.Seq = w.seq
	if e.Time.IsZero() {
		e.Time = w.now().UTC()
	}
	line, err := json.Marshal(mask(w.redact, e))
	if err != nil {
		w.seq--
		w.mu.Unlock()
		return e, fmt.Errorf("journal: encode %s: %w", e.Type, err)
	}
	line = seal(line) // masked before it was encoded: the checksum covers the final bytes
	if _, err := w.f.Write(line); err != nil {
		w.err = fmt.Errorf("%w: write %s: %w", ErrUnavailable, w.final, err)
		w.mu.Unlock()
		return e, w.err
	}
	if w.pending != "" {
		if err := w.publish(); err != nil {
			w.err = fmt.Errorf("%w: create %s: %w", ErrUnavailable, w.final, err)
			w.mu.Unlock()
			return e, w.err
		}
	}
	w.mu.Unlock()
	if durable {
		if err := w.syncTo(e.Seq); err != nil {
			return e, err
		}
	}
	return e, nil
}

// syncTo makes events up to seq durable. A caller that finds its event
// already covered by another goroutine's fsync returns at once.
func (w *Writer) syncTo(seq int) error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	upTo, err := w.seq, w.err
	w.mu.Unlock()
	if err != nil {
		return err
	}
	if w.synced >= seq {
		return nil
	}
	if err := datasync(w.f); err != nil {
		// After a failed fsync the kernel may have dropped the dirty pages:
		// nothing written since the last good one can be trusted.
		err = fmt.Errorf("%w: fsync %s: %w", ErrUnavailable, w.final, err)
		w.mu.Lock()
		if w.err == nil {
			w.err = err
		}
		w.mu.Unlock()
		return err
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

// Close syncs and closes the journal, releasing its lock. A new journal
// that never got its first record is removed.
func (w *Writer) Close() error {
	w.mu.Lock()
	pending := w.pending
	w.mu.Unlock()
	if pending != "" {
		os.Remove(pending)
		return w.f.Close()
	}
	if err := w.Sync(); err != nil {
		w.f.Close()
		return err
	}
	return w.f.Close()
}

// Read returns a run's events. A torn last record (a crash mid-write) is
// not returned; damage anywhere else is an error naming its line.
func Read(stateDir, runID string) ([]Event, error) {
	data, err := os.ReadFile(Path(stateDir, runID))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("run %q: %w (runs are in %s)", runID, ErrNotFound, RunsDir(stateDir))
		}
		return nil, err
	}
	events, err := Parse(data)
	if err != nil {
		return events, fmt.Errorf("journal %s: %w", Path(stateDir, runID), err)
	}
	return events, nil
}

// ErrDamaged wraps every error about a journal's content.
var ErrDamaged = errors.New("journal damaged")

// Parse decodes journal lines, checking each record's checksum. A final
// record without its newline is torn (a crash mid-write) and left out.
func Parse(data []byte) ([]Event, error) {
	p, err := scan(data)
	return p.events, err
}

// parsed is what scan finds in a journal file.
type parsed struct {
	events []Event
	lines  int // whole lines, blank ones included
	whole  int // bytes up to the end of the last whole record
	torn   int // bytes of a torn final record after whole
}

// scan reads every whole line of a journal; lines have no length limit.
// From the first record that carries a checksum on, every record must:
// journals begun before checksums have none, and a resume continues them
// with checksums. (A flip inside the first record's "crc" key makes it
// look unsealed, but leaves its content as it was.)
func scan(data []byte) (parsed, error) {
	var p parsed
	sealed := false
	for off := 0; off < len(data); {
		nl := bytes.IndexByte(data[off:], '\n')
		if nl < 0 {
			p.torn = len(data) - off
			break
		}
		b := data[off : off+nl]
		off += nl + 1
		p.lines++
		if len(bytes.TrimSpace(b)) == 0 {
			p.whole = off
			continue
		}
		body, ok, has := unseal(b)
		sealed = sealed || has
		switch {
		case has && !ok:
			return p, fmt.Errorf("line %d: checksum mismatch: %w", p.lines, ErrDamaged)
		case sealed && !has:
			return p, fmt.Errorf("line %d: record has no checksum: %w", p.lines, ErrDamaged)
		}
		var e Event
		if err := json.Unmarshal(body, &e); err != nil {
			return p, fmt.Errorf("line %d: %w: %w", p.lines, ErrDamaged, err)
		}
		if e.Seq != len(p.events)+1 {
			return p, fmt.Errorf("line %d: event %d found where %d belongs: %w", p.lines, e.Seq, len(p.events)+1, ErrDamaged)
		}
		p.events = append(p.events, e)
		p.whole = off
	}
	return p, nil
}

// The checksum ends each record: {...,"crc":"xxxxxxxx"} where xxxxxxxx is
// the CRC-32C of the record as encoded without it. A JSON reader ignores it.
const (
	crcKey = `,"crc":"`
	crcLen = len(crcKey) + 8 + len(`"}`)
)

// castagnoli is CRC-32C's table, made when a journal is first written or
// read rather than when every command starts.
var castagnoli = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

// seal adds the checksum and the newline to an encoded record.
func seal(rec []byte) []byte {
	sum := crc32.Checksum(rec, castagnoli())
	out := make([]byte, 0, len(rec)+crcLen+1)
	out = append(out, rec[:len(rec)-1]...)
	out = fmt.Appendf(out, `%s%08x"}`, crcKey, sum)
	return append(out, '\n')
}

// unseal checks a line's checksum: has says it carries one, ok that it
// matches; body is the record as it was encoded.
func unseal(line []byte) (body []byte, ok, has bool) {
	n := len(line)
	if n < crcLen+2 || !bytes.HasSuffix(line, []byte(`"}`)) || !bytes.Equal(line[n-crcLen:n-crcLen+len(crcKey)], []byte(crcKey)) {
		return line, false, false
	}
	body = append(append([]byte(nil), line[:n-crcLen]...), '}')
	sum := fmt.Appendf(nil, "%08x", crc32.Checksum(body, castagnoli()))
	return body, bytes.Equal(sum, line[n-crcLen+len(crcKey):n-2]), true
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
