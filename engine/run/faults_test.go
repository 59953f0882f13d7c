package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/redact"
	"github.com/alpha-orion/runbook/internal/pgserver/pgtest"
	"github.com/alpha-orion/runbook/internal/testenv"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sys/unix"
)

// faultStore is a Store whose journals fail every write from the failAt-th
// on (counted across the store's journals), as a disk that fills up or a
// connection that dies does. The failing write does not reach the store.
type faultStore struct {
	journal.Store
	failAt int

	mu     sync.Mutex // guards writes
	writes int
}

var errInjected = errors.New("injected write failure")

func (s *faultStore) Create(ctx context.Context, runID string, r *redact.Redactor) (journal.Log, error) {
	l, err := s.Store.Create(ctx, runID, r)
	if err != nil {
		return nil, err
	}
	return &faultLog{Log: l, s: s}, nil
}

func (s *faultStore) Append(ctx context.Context, runID string, lastSeq int, r *redact.Redactor) (journal.Log, error) {
	l, err := s.Store.Append(ctx, runID, lastSeq, r)
	if err != nil {
		return nil, err
	}
	return &faultLog{Log: l, s: s}, nil
}

type faultLog struct {
	journal.Log
	s *faultStore
}

func (l *faultLog) Write(e journal.Event, durable bool) (journal.Event, error) {
	l.s.mu.Lock()
	l.s.writes++
	fail := l.s.failAt > 0 && l.s.writes >= l.s.failAt
	l.s.mu.Unlock()
	if fail {
		return e, fmt.Errorf("%w: write: %w", journal.ErrUnavailable, errInjected)
	}
	return l.Log.Write(e, durable)
}

// faultRunbook is a chain of destructive steps, each with an undo, and a
// finally: after a journal failure none of them may call a plugin.
const faultRunbook = `
params:
  pad: {type: string, default: ""}
steps:
  - {id: r1, uses: test.record, with: {value: "1${{ params.pad }}"}, undo: {uses: test.record, with: {value: u1}}}
  - {id: r2, uses: test.record, with: {value: "2${{ params.pad }}"}, undo: {uses: test.record, with: {value: u2}}}
  - {id: r3, uses: test.record, with: {value: "3${{ params.pad }}"}, undo: {uses: test.record, with: {value: u3}}}
  - {id: r4, uses: test.record, with: {value: "4${{ params.pad }}"}, undo: {uses: test.record, with: {value: u4}}}
  - {id: r5, uses: test.record, with: {value: "5${{ params.pad }}"}, undo: {uses: test.record, with: {value: u5}}}
  - {id: r6, uses: test.record, with: {value: "6${{ params.pad }}"}, undo: {uses: test.record, with: {value: u6}}}
finally:
  - {id: fin, uses: test.record, with: {value: fin}}
`

var faultSteps = []string{"r1", "r2", "r3", "r4", "r5", "r6", "fin"}

// sideEffect is one line of the test plugin's record file.
type sideEffect struct {
	Step string `json:"step"`
	Key  string `json:"key"`
}

func sideEffects(t *testing.T, f *fixture) []sideEffect {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(f.dir, "record.jsonl"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []sideEffect
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r sideEffect
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("record file: %v", err)
		}
		out = append(out, r)
	}
	return out
}

// checkWriteAhead asserts the invariant: every side effect was announced by
// a journaled record carrying its idempotency key, and none happened twice.
func checkWriteAhead(t *testing.T, effects []sideEffect, events []journal.Event) {
	t.Helper()
	announced := map[string]bool{}
	for _, e := range events {
		if e.Type == journal.StepStarted || e.Type == journal.UndoStarted {
			announced[e.Key] = true
		}
	}
	seen := map[string]int{}
	for _, s := range effects {
		if !announced[s.Key] {
			t.Errorf("step %s took effect with no journaled record announcing it", s.Step)
		}
		if seen[s.Key]++; seen[s.Key] > 1 {
			t.Errorf("step %s took effect twice", s.Step)
		}
	}
}

// TestJournalWriteFailureStopsRun fails the journal at every write of a
// clean run in turn, on both stores. Each time the run must stop at once:
// no plugin call without its durable record, none after the failure (no
// undo, no finally), status failed naming the store; the journal must read
// back, and a resume on a healthy store must finish every step exactly once.
func TestJournalWriteFailureStopsRun(t *testing.T) {
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			// A clean run counts the writes to fail at.
			f := newFixture(t, "fault", faultRunbook)
			clean := &faultStore{Store: open(t, f)}
			o := f.options(nil)
			o.Store, o.Concurrency = clean, 1
			res, err := Start(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			want(t, res, journal.StatusSucceeded)
			total := clean.writes
			if total < 2*len(faultSteps) {
				t.Fatalf("a clean run made %d journal writes; want at least %d", total, 2*len(faultSteps))
			}
			for at := 1; at <= total; at++ {
				t.Run(fmt.Sprintf("write%d", at), func(t *testing.T) {
					faultAt(t, open, at)
				})
			}
		})
	}
}

func faultAt(t *testing.T, open func(testing.TB, *fixture) journal.Store, at int) {
	ctx := context.Background()
	f := newFixture(t, "fault", faultRunbook)
	st := open(t, f)
	fs := &faultStore{Store: st, failAt: at}
	o := f.options(nil)
	o.Store, o.Concurrency = fs, 1
	res, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	want(t, res, journal.StatusFailed)
	if msg := fmt.Sprint(res.Err); !strings.HasPrefix(msg, "journal unavailable: ") || !strings.Contains(msg, st.String()) || !strings.Contains(msg, errInjected.Error()) {
		t.Errorf("error = %q; want journal unavailable: …, naming the store %s and the cause", msg, st)
	}
	fs.mu.Lock()
	extra := fs.writes - at
	fs.mu.Unlock()
	if extra > 2 {
		// A step's failure and the run's end may still be tried; no more.
		t.Errorf("%d journal writes after the failed one; the run went on", extra)
	}
	events, err := st.Read(ctx, res.RunID)
	if at == 1 {
		// Not even run_started: the folder shows no journal, PostgreSQL
		// an empty one; nothing may have run, and there is nothing to resume.
		if (err != nil && !errors.Is(err, journal.ErrNotFound)) || len(events) != 0 {
			t.Errorf("after failing the first write: %d events, %v", len(events), err)
		}
		if n := len(sideEffects(t, f)); n != 0 {
			t.Errorf("%d side effects without a journal", n)
		}
		return
	}
	if err != nil {
		t.Fatalf("journal unreadable after the failure: %v", err)
	}
	if len(events) != at-1 {
		t.Errorf("journal has %d events, want the %d written before the failure", len(events), at-1)
	}
	effects := sideEffects(t, f)
	checkWriteAhead(t, effects, events)
	// The same run resumed on a healthy store finishes every step once.
	o = f.options(nil)
	o.Store, o.Concurrency = st, 1
	res2, _, err := Resume(ctx, o, res.RunID)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	want(t, res2, journal.StatusSucceeded)
	events, err = st.Read(ctx, res.RunID)
	if err != nil {
		t.Fatalf("journal unreadable after resume: %v", err)
	}
	effects = sideEffects(t, f)
	checkWriteAhead(t, effects, events)
	count := map[string]int{}
	for _, s := range effects {
		count[s.Step]++
	}
	for _, id := range faultSteps {
		if count[id] != 1 {
			t.Errorf("step %s took effect %d times, want once", id, count[id])
		}
	}
}

// TestJournalDiskFull runs on a real, tiny tmpfs so the journal hits ENOSPC
// part-way through a record: the run stops before the next plugin call with
// the disk's error, the journal reads back (the torn record left out), and
// once the disk has room a resume cuts the torn record (journal_repaired)
// and finishes every step exactly once.
func TestJournalDiskFull(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "full", faultRunbook)
	state := filepath.Join(f.dir, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	// The records are ~3 KiB each; 16 KiB holds a few of them, not the run.
	if err := unix.Mount("tmpfs", state, "tmpfs", 0, "size=16k,mode=0700"); err != nil {
		testenv.Missing(t, "mount a small tmpfs (needs root)", err)
	}
	t.Cleanup(func() { unix.Unmount(state, unix.MNT_DETACH) })
	p, err := Params(f.rb, nil, map[string]string{"pad": strings.Repeat("x", 3000)})
	if err != nil {
		t.Fatal(err)
	}
	o := f.options(nil)
	o.StateDir, o.Params, o.Concurrency = state, p, 1
	res, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	want(t, res, journal.StatusFailed)
	if msg := fmt.Sprint(res.Err); !strings.HasPrefix(msg, "journal unavailable: ") || !strings.Contains(msg, "no space left on device") || !strings.Contains(msg, state) {
		t.Errorf("error = %q; want journal unavailable: … no space left on device, naming %s", msg, state)
	}
	events, err := journal.Read(state, res.RunID)
	if err != nil {
		t.Fatalf("journal unreadable after ENOSPC: %v", err)
	}
	effects := sideEffects(t, f)
	checkWriteAhead(t, effects, events)
	if len(effects) == 0 || len(effects) >= len(faultSteps)-1 {
		t.Fatalf("%d side effects before the disk filled; the test wants the disk full mid-run", len(effects))
	}
	before := len(effects)
	data, _ := os.ReadFile(journal.Path(state, res.RunID))
	torn := len(data) > 0 && data[len(data)-1] != '\n'

	if err := unix.Mount("tmpfs", state, "tmpfs", unix.MS_REMOUNT, "size=1m,mode=0700"); err != nil {
		t.Fatalf("grow the tmpfs: %v", err)
	}
	o = f.options(nil)
	o.StateDir, o.Concurrency = state, 1
	res2, _, err := Resume(ctx, o, res.RunID)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	want(t, res2, journal.StatusSucceeded)
	events, err = journal.Read(state, res.RunID)
	if err != nil {
		t.Fatalf("journal unreadable after resume: %v", err)
	}
	repaired := 0
	for _, e := range events {
		if e.Type == journal.JournalRepaired {
			repaired++
		}
	}
	if want := map[bool]int{true: 1, false: 0}[torn]; repaired != want {
		t.Errorf("torn tail %v: %d journal_repaired events, want %d", torn, repaired, want)
	}
	effects = sideEffects(t, f)
	checkWriteAhead(t, effects, events)
	count := map[string]int{}
	for _, s := range effects {
		count[s.Step]++
	}
	for _, id := range faultSteps {
		if count[id] != 1 {
			t.Errorf("step %s took effect %d times, want once", id, count[id])
		}
	}
	t.Logf("disk full after %d side effects; torn tail: %v", before, torn)
}

// TestOutputLimit: a step whose outputs are over the limit fails with a
// clear error and the journal stays readable; a raised limit lets it pass.
func TestOutputLimit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int
		limit  int
		status string
	}{
		{"under the default", 1000, 0, journal.StatusSucceeded},
		{"over the default", DefaultMaxOutputBytes + 1, 0, journal.StatusFailed},
		{"raised", 3 << 20, 4 << 20, journal.StatusSucceeded},
		{"over a raised limit", 5 << 20, 4 << 20, journal.StatusFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, "big", `
params:
  pad: {type: string}
steps:
  - {id: big, uses: test.echo, with: {text: "${{ params.pad }}"}}
  - {id: after, uses: test.echo, with: {text: after}}
`)
			p, err := Params(f.rb, nil, map[string]string{"pad": strings.Repeat("x", tc.size)})
			if err != nil {
				t.Fatal(err)
			}
			o := f.options(nil)
			o.Params, o.MaxOutputBytes = p, tc.limit
			res, err := Start(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			want(t, res, tc.status)
			if tc.status == journal.StatusFailed {
				if msg := res.Steps["big"].Err; !strings.Contains(msg, "over the limit") || !strings.Contains(msg, "--max-output") {
					t.Errorf("step error %q does not say the limit and how to raise it", msg)
				}
				if res.Steps["after"].Status == journal.StatusSucceeded {
					t.Error("the next step ran")
				}
			}
			events, err := journal.Read(o.StateDir, res.RunID)
			if err != nil {
				t.Fatalf("journal unreadable: %v", err)
			}
			if rp, err := Replay(events); err != nil || rp.Status != tc.status {
				t.Fatalf("replay: %v, status %v", err, rp)
			}
		})
	}
}

// TestPostgresConnectionKilled ends, while a step is in flight, the
// PostgreSQL session that holds the run's lock or the one that writes its
// journal: the run must start no further step and fail saying which (lock
// lost, or journal unavailable naming the store); the journal reads back;
// a resume (or, for the lock, a second run) finishes every step once.
func TestPostgresConnectionKilled(t *testing.T) {
	for _, tc := range []struct {
		name, kill, prefix string
	}{
		{"lock", `SELECT pg_terminate_backend(backend_pid, 5000) FROM runbook.locks WHERE runbook = 'killed'`, "lock lost: "},
		{"journal", `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid NOT IN (SELECT backend_pid FROM runbook.locks)`, "journal unavailable: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			srv, db := pgtest.NewDatabase(t)
			st, err := journal.Open(ctx, srv.URL(db))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			admin, err := pgx.Connect(ctx, srv.URL(db))
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close(ctx)
			f := newFixture(t, "killed", `
steps:
  - {id: r1, uses: test.record, with: {value: 1}}
  - {id: r2, uses: test.record, with: {value: 2}}
  - {id: r3, uses: test.record, with: {value: 3}}
`)
			o := f.options(nil)
			o.Store, o.StateDir = st, ""
			observe := o.Observe
			killed := false
			o.Observe = func(e journal.Event) {
				observe(e)
				if e.Type == journal.StepStarted && e.Step == "r2" && !killed {
					killed = true
					if _, err := admin.Exec(ctx, tc.kill); err != nil {
						t.Error(err)
					}
				}
			}
			res, err := Start(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			want(t, res, journal.StatusFailed)
			if msg := fmt.Sprint(res.Err); !strings.HasPrefix(msg, tc.prefix) || !strings.Contains(msg, st.String()) {
				t.Errorf("error = %q; want %s…, naming the store", msg, tc.prefix)
			}
			// A new store: the old one's own connection may be gone too.
			st2, err := journal.Open(ctx, srv.URL(db))
			if err != nil {
				t.Fatal(err)
			}
			defer st2.Close()
			events, err := st2.Read(ctx, res.RunID)
			if err != nil {
				t.Fatalf("journal unreadable: %v", err)
			}
			effects := sideEffects(t, f)
			checkWriteAhead(t, effects, events)
			for _, s := range effects {
				if s.Step == "r3" {
					t.Error("r3 ran after the connection was killed")
				}
			}
			o2 := f.options(nil)
			o2.Store, o2.StateDir = st2, ""
			res2, _, err := Resume(ctx, o2, res.RunID)
			if err != nil {
				t.Fatalf("resume: %v", err)
			}
			want(t, res2, journal.StatusSucceeded)
			events, _ = st2.Read(ctx, res.RunID)
			effects = sideEffects(t, f)
			checkWriteAhead(t, effects, events)
			count := map[string]int{}
			for _, s := range effects {
				count[s.Step]++
			}
			for _, id := range []string{"r1", "r2", "r3"} {
				if count[id] != 1 {
					t.Errorf("step %s took effect %d times, want once", id, count[id])
				}
			}
		})
	}
}
