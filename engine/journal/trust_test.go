package journal

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/redact"
)

// writeJournal writes a run_started and n-1 step events and returns the
// file's bytes and the events as read back.
func writeJournal(t *testing.T, dir, runID string, n int) ([]byte, []Event) {
	t.Helper()
	w, err := Create(dir, runID, redact.New("hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(Event{Type: RunStarted, Run: runID, Runbook: "neon-pitr", User: "alice"}, true)
	for i := 1; i < n; i++ {
		if _, err := w.Write(Event{Type: StepStarted, Step: "s", Attempt: i, Inputs: map[string]any{"n": i, "pw": "hunter2"}, Message: "ok"}, i%3 == 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(Path(dir, runID))
	if err != nil {
		t.Fatal(err)
	}
	events, err := Read(dir, runID)
	if err != nil || len(events) != n {
		t.Fatalf("read %d events (%v), want %d", len(events), err, n)
	}
	return data, events
}

// TestEveryByteFlipIsCaught flips each byte of a journal in turn (two
// ways): reading must fail naming a line, or, when the flip hit the final
// newline, leave out exactly the last (now torn) record; never return
// different events without an error.
func TestEveryByteFlipIsCaught(t *testing.T) {
	dir := t.TempDir()
	data, events := writeJournal(t, dir, "r", 8)
	caught := 0
	defer func() {
		t.Logf("%d of %d flips refused, the rest cut as a torn tail or left content intact", caught, 2*len(data))
	}()
	for _, mask := range []byte{0x01, 0x20} {
		for i := range data {
			bad := bytes.Clone(data)
			bad[i] ^= mask
			got, err := Parse(bad)
			switch {
			case err != nil:
				if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "line ") {
					t.Fatalf("flip %#x at %d: error %q does not name the line", mask, i, err)
				}
				caught++
			case i == len(data)-1 && reflect.DeepEqual(got, events[:len(events)-1]):
				// The final newline is gone: the last record is torn.
			case i < bytes.IndexByte(data, '\n') && reflect.DeepEqual(got, events):
				// The first record's checksum key: the content is intact.
			default:
				t.Fatalf("flip %#x at byte %d (%q) accepted silently", mask, i, data[max(0, i-10):min(len(data), i+10)])
			}
		}
	}
}

// TestAppendRepairsTornTail: a crash mid-write leaves part of a record; the
// next writer cuts it back with a journal_repaired event before appending.
func TestAppendRepairsTornTail(t *testing.T) {
	for _, cut := range []int{1, 10, 40} {
		dir := t.TempDir()
		data, events := writeJournal(t, dir, "r", 6)
		os.WriteFile(Path(dir, "r"), data[:len(data)-cut], 0o600)
		got, err := Read(dir, "r")
		if err != nil || len(got) != 5 {
			t.Fatalf("cut %d: read %d events (%v), want the 5 whole ones", cut, len(got), err)
		}
		if _, err := Append(dir, "r", 6, redact.New()); !errors.Is(err, ErrSeqConflict) {
			t.Errorf("cut %d: append after the torn event: %v, want a seq conflict", cut, err)
		}
		w, err := Append(dir, "r", 5, redact.New())
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		w.Write(Event{Type: RunResumed}, true)
		w.Close()
		got, err = Read(dir, "r")
		if err != nil {
			t.Fatalf("cut %d: after repair: %v", cut, err)
		}
		if len(got) != 7 || got[5].Type != JournalRepaired || got[6].Type != RunResumed || !reflect.DeepEqual(got[:5], events[:5]) {
			t.Fatalf("cut %d: events after repair: %+v", cut, got[4:])
		}
		if !strings.Contains(got[5].Message, "torn final record") {
			t.Errorf("cut %d: repair message %q", cut, got[5].Message)
		}
	}
}

// TestAppendRefusesDamage: damage before the last record is refused with
// its line and the file is left exactly as it was.
func TestAppendRefusesDamage(t *testing.T) {
	dir := t.TempDir()
	data, _ := writeJournal(t, dir, "r", 6)
	lines := bytes.SplitAfter(data, []byte("\n"))
	at := len(lines[0]) + len(lines[1]) + 20 // inside line 3
	bad := bytes.Clone(data)
	bad[at] ^= 0x01
	os.WriteFile(Path(dir, "r"), bad, 0o600)
	_, err := Append(dir, "r", 6, redact.New())
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "refusing to append") {
		t.Fatalf("append to a damaged journal: %v", err)
	}
	if now, _ := os.ReadFile(Path(dir, "r")); !bytes.Equal(now, bad) {
		t.Error("the damaged journal was changed")
	}
	if _, err := Read(dir, "r"); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("read: %v", err)
	}
}

// TestReadHasNoLineLimit reads back a record far over bufio.Scanner's limits.
func TestReadHasNoLineLimit(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, "big", redact.New())
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 20<<20)
	w.Write(Event{Type: RunStarted, Run: "big"}, false)
	w.Write(Event{Type: StepSucceeded, Step: "s", Outputs: map[string]any{"blob": big}}, false)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	events, err := Read(dir, "big")
	if err != nil || len(events) != 2 || events[1].Outputs["blob"] != big {
		t.Fatalf("read %d events: %v", len(events), err)
	}
}

// TestSecondWriterIsRefused: one process at a time writes a journal.
func TestSecondWriterIsRefused(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, "r", redact.New())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(Event{Type: RunStarted}, true)
	if _, err := Append(dir, "r", 1, redact.New()); !errors.Is(err, ErrBusy) {
		t.Errorf("second writer: %v, want ErrBusy", err)
	}
	w.Close()
	w2, err := Append(dir, "r", 1, redact.New())
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	w2.Close()
}

// TestLockSurvivesOperator: deleting or replacing the lock file of a
// runbook whose run is in progress does not let a second run in; the
// second is told which run holds it. Another runbook, even one whose name
// is a prefix, is not held up.
func TestLockSurvivesOperator(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(path string) error
	}{
		{"deleted", os.Remove},
		{"replaced", func(p string) error {
			if err := os.Remove(p); err != nil {
				return err
			}
			return os.WriteFile(p, []byte(`{"run":"stale"}`), 0o600)
		}},
		{"emptied", func(p string) error { return os.Truncate(p, 0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			runA := "20260101T000000Z-neon-pitr-abcdef"
			l, err := Acquire(dir, Holder{Run: runA, User: "alice", Runbook: "neon-pitr", Since: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			w, err := Create(dir, runA, redact.New())
			if err != nil {
				t.Fatal(err)
			}
			w.Write(Event{Type: RunStarted, Run: runA, User: "alice", Runbook: "neon-pitr"}, true)
			if err := tc.tamper(filepath.Join(dir, "locks", "neon-pitr.lock")); err != nil {
				t.Fatal(err)
			}
			_, err = Acquire(dir, Holder{Run: "run-b", User: "bob", Runbook: "neon-pitr"})
			var le *LockedError
			if !errors.As(err, &le) || le.Holder.Run != runA || le.Holder.User != "alice" {
				t.Fatalf("second run after the lock file was %s: %v", tc.name, err)
			}
			o, err := Acquire(dir, Holder{Run: "run-c", Runbook: "neon"})
			if err != nil {
				t.Fatalf("runbook neon held up by neon-pitr: %v", err)
			}
			o.Release()
			w.Close()
			l.Release()
			l2, err := Acquire(dir, Holder{Run: "run-d", Runbook: "neon-pitr"})
			if err != nil {
				t.Fatalf("after the run ended: %v", err)
			}
			l2.Release()
		})
	}
}

// TestPostgresLockQuickHandover releases and at once re-acquires a lock
// from another machine, many times: the second must get it, and while it is
// held a third must always see a named holder, never a blank one.
func TestPostgresLockQuickHandover(t *testing.T) {
	ctx := context.Background()
	a, url := openPG(t)
	b, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	stores := []Store{a, b}
	for i := 0; i < 40; i++ {
		st, other := stores[i%2], stores[(i+1)%2]
		h := Holder{Run: "run", User: "user", Host: "host", PID: i + 1, Runbook: "handover"}
		l, err := st.Acquire(ctx, h)
		if err != nil {
			t.Fatalf("round %d: acquire right after release: %v", i, err)
		}
		_, err = other.Acquire(ctx, Holder{Run: "x", Runbook: "handover"})
		var le *LockedError
		if !errors.As(err, &le) || le.Holder.PID != i+1 || le.Holder.User != "user" {
			t.Fatalf("round %d: while held: %v", i, err)
		}
		if err := l.Release(); err != nil {
			t.Fatalf("round %d: release: %v", i, err)
		}
	}
}

// TestPostgresFencing kills the session that holds a runbook's lock: the
// store refuses the holder's next journal write (its fencing token no
// longer holds), its heartbeat reports the loss, and a second holder gets
// the lock and writes while the first stays refused.
func TestPostgresFencing(t *testing.T) {
	ctx := context.Background()
	a, url := openPG(t)
	l, err := a.Acquire(ctx, Holder{Run: "run-1", User: "alice", Runbook: "fence"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	log, err := a.Create(ctx, "run-1", redact.New())
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	log.(Fencer).Fence(l)
	if _, err := log.Write(Event{Type: RunStarted}, true); err != nil {
		t.Fatalf("write while holding the lock: %v", err)
	}
	a.mu.Lock()
	_, err = a.conn.Exec(ctx, `SELECT pg_terminate_backend(backend_pid, 5000) FROM runbook.locks WHERE runbook = 'fence'`)
	a.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := log.Write(Event{Type: StepStarted, Step: "s"}, true); !errors.Is(err, ErrLockLost) {
		t.Fatalf("write after the lock's session ended: %v, want ErrLockLost", err)
	}
	deadline := time.Now().Add(20 * Heartbeat)
	for l.Check() == nil && time.Now().Before(deadline) {
		time.Sleep(Heartbeat / 10)
	}
	if err := l.Check(); !errors.Is(err, ErrLockLost) || !strings.Contains(err.Error(), "lock lost") {
		t.Fatalf("Check after the session ended: %v", err)
	}
	b, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	l2, err := b.Acquire(ctx, Holder{Run: "run-2", User: "bob", Runbook: "fence"})
	if err != nil {
		t.Fatalf("second holder: %v", err)
	}
	defer l2.Release()
	log2, err := b.Create(ctx, "run-2", redact.New())
	if err != nil {
		t.Fatal(err)
	}
	defer log2.Close()
	log2.(Fencer).Fence(l2)
	if _, err := log2.Write(Event{Type: RunStarted}, true); err != nil {
		t.Fatalf("second holder's write: %v", err)
	}
	if err := l2.Check(); err != nil {
		t.Errorf("second holder's lock: %v", err)
	}
	// The first holder, with a fresh connection and its old token, is refused.
	stale, err := a.Append(ctx, "run-1", 1, redact.New())
	if err != nil {
		t.Fatal(err)
	}
	defer stale.Close()
	stale.(Fencer).Fence(l)
	if _, err := stale.Write(Event{Type: StepStarted, Step: "s"}, true); !errors.Is(err, ErrLockLost) {
		t.Fatalf("old holder's write after a new holder took the lock: %v", err)
	}
}

// TestLegacyJournalContinues: a journal written before checksums reads and
// resumes; what is appended carries checksums, and damage in it is caught.
func TestLegacyJournalContinues(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(RunsDir(dir), 0o700)
	legacy := `{"seq":1,"time":"2026-01-01T00:00:00Z","type":"run_started","run":"r"}` + "\n" +
		`{"seq":2,"time":"2026-01-01T00:00:01Z","type":"step_started","step":"a"}` + "\n"
	os.WriteFile(Path(dir, "r"), []byte(legacy), 0o600)
	w, err := Append(dir, "r", 2, redact.New())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(Event{Type: RunResumed}, true)
	w.Write(Event{Type: StepSucceeded, Step: "a"}, true)
	w.Close()
	events, err := Read(dir, "r")
	if err != nil || len(events) != 4 {
		t.Fatalf("read %d events: %v", len(events), err)
	}
	data, _ := os.ReadFile(Path(dir, "r"))
	data[len(legacy)+12] ^= 0x01
	if _, err := Parse(data); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("damage after the legacy part: %v", err)
	}
}
