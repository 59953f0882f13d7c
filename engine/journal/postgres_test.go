package journal

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/alpha-orion/runbook/engine/redact"
	"github.com/alpha-orion/runbook/internal/pgserver"
	"github.com/alpha-orion/runbook/internal/pgserver/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// openPG returns a store on a fresh database, and the database's URL.
func openPG(t testing.TB) (*Postgres, string) {
	t.Helper()
	srv, db := pgtest.NewDatabase(t)
	url := srv.URL(db)
	st, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st.(*Postgres), url
}

func TestPostgresWriteRead(t *testing.T) {
	ctx := context.Background()
	st, _ := openPG(t)
	w, err := st.Create(ctx, "r1", redact.New("s3cret-value"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := w.Write(Event{Type: StepStarted, Step: "s", Attempt: i, Message: "key s3cret-value"}, i%2 == 0); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	events, err := st.Read(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(events), 20; got != want {
		t.Fatalf("read %d events, want %d", got, want)
	}
	for i, e := range events {
		if e.Seq != i+1 {
			t.Errorf("event %d has seq %d", i, e.Seq)
		}
		if e.Message != "key ***" {
			t.Errorf("secret not masked: %q", e.Message)
		}
	}
	if _, err := st.Read(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("reading a missing run: %v", err)
	}
	if _, err := st.Append(ctx, "nope", 0, redact.New()); !errors.Is(err, ErrNotFound) {
		t.Errorf("appending to a missing run: %v", err)
	}
	if _, err := st.Create(ctx, "r1", redact.New()); err == nil {
		t.Error("creating an existing run succeeded")
	}
	ids, _ := st.List(ctx)
	if len(ids) != 1 || ids[0] != "r1" {
		t.Errorf("List = %v", ids)
	}
}

// TestPostgresRefusesTornAndDuplicateSeq: a writer with a stale view, a
// second writer, and a gap are all refused, and the journal stays whole.
func TestPostgresRefusesTornAndDuplicateSeq(t *testing.T) {
	ctx := context.Background()
	st, _ := openPG(t)
	w, _ := st.Create(ctx, "r", redact.New())
	for i := 0; i < 2; i++ {
		if _, err := w.Write(Event{Type: StepStarted, Step: "s"}, true); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	if _, err := st.Append(ctx, "r", 1, redact.New()); !errors.Is(err, ErrSeqConflict) {
		t.Errorf("append after a stale read: %v", err)
	}
	a, err := st.Append(ctx, "r", 2, redact.New())
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.Append(ctx, "r", 2, redact.New())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Write(Event{Type: StepSucceeded, Step: "s"}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Write(Event{Type: StepFailed, Step: "s"}, true); !errors.Is(err, ErrSeqConflict) {
		t.Errorf("duplicate seq: %v", err)
	}
	if _, err := b.Write(Event{Type: StepFailed, Step: "s"}, true); err == nil {
		t.Error("a writer that lost an event went on writing")
	}
	a.Close()
	b.Close()
	st.mu.Lock()
	_, gapErr := st.conn.Exec(ctx, `INSERT INTO runbook.events (run_id, seq, time, type, body) VALUES ('r', 9, now(), 'x', '{}')`)
	_, dupErr := st.conn.Exec(ctx, `INSERT INTO runbook.events (run_id, seq, time, type, body) VALUES ('r', 3, now(), 'x', '{}')`)
	st.mu.Unlock()
	if gapErr == nil || dupErr == nil {
		t.Errorf("the database took a gap (%v) or a duplicate (%v)", gapErr, dupErr)
	}
	events, err := st.Read(ctx, "r")
	if err != nil || len(events) != 3 || events[2].Type != StepSucceeded {
		t.Errorf("journal after the conflicts: %d events, %v", len(events), err)
	}
}

func TestPostgresMigrationsIdempotentAndConcurrent(t *testing.T) {
	ctx := context.Background()
	srv, db := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := OpenPostgres(ctx, srv.URL(db))
			if err != nil {
				t.Error(err)
				return
			}
			st.Close()
		}()
	}
	wg.Wait()
	st, err := OpenPostgres(ctx, srv.URL(db)) // and once more, applied already
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var n, max int
	if err := st.conn.QueryRow(ctx, `SELECT count(*), max(version) FROM runbook.schema_migrations`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if n != len(migrations) || max != SchemaVersion() {
		t.Errorf("schema_migrations has %d rows up to %d, want %d up to %d", n, max, len(migrations), SchemaVersion())
	}
	// A database migrated by a newer runbook is refused, not downgraded.
	st.conn.Exec(ctx, `INSERT INTO runbook.schema_migrations (version, name) VALUES (999, 'future')`)
	if _, err := OpenPostgres(ctx, srv.URL(db)); err == nil {
		t.Error("a newer schema was accepted")
	}
}

func TestPostgresLock(t *testing.T) {
	ctx := context.Background()
	st, url := openPG(t)
	l, err := st.Acquire(ctx, Holder{Run: "run-1", User: "alice", Host: "box-a", Runbook: "neon-pitr"})
	if err != nil {
		t.Fatal(err)
	}
	// A second store stands for a second machine.
	other, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, err = other.Acquire(ctx, Holder{Run: "run-2", User: "bob", Runbook: "neon-pitr"})
	var le *LockedError
	if !errors.As(err, &le) || le.Holder.User != "alice" || le.Holder.Run != "run-1" || le.Holder.Host != "box-a" {
		t.Fatalf("second acquire: %v", err)
	}
	o, err := other.Acquire(ctx, Holder{Run: "run-3", Runbook: "other"})
	if err != nil {
		t.Fatalf("another runbook's lock: %v", err)
	}
	o.Release()
	l.Release()
	l2, err := other.Acquire(ctx, Holder{Run: "run-4", Runbook: "neon-pitr"})
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	// The holder's connection dies (a crash): the server frees the lock.
	var pid int
	st.mu.Lock()
	st.conn.QueryRow(ctx, `SELECT backend_pid FROM runbook.locks WHERE runbook = 'neon-pitr'`).Scan(&pid)
	_, err = st.conn.Exec(ctx, `SELECT pg_terminate_backend($1, 5000)`, pid)
	st.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	l3, err := st.Acquire(ctx, Holder{Run: "run-5", Runbook: "neon-pitr"})
	if err != nil {
		t.Fatalf("after the holder's connection died: %v", err)
	}
	l3.Release()
	l2.Release() // its connection is gone; releasing is still safe
}

// BenchmarkPostgresDurableWrite is the PostgreSQL journal's floor per step
// (compare BenchmarkDurableWrite): one event inserted and committed. The
// shared test server runs without fsync; the fsync case starts a server that
// flushes its WAL on commit, as a real state database does.
func BenchmarkPostgresDurableWrite(b *testing.B) {
	b.Run("nofsync", func(b *testing.B) {
		st, _ := openPG(b)
		benchWrites(b, st)
	})
	b.Run("nofsync-fenced", func(b *testing.B) {
		st, _ := openPG(b)
		l, err := st.Acquire(context.Background(), Holder{Run: "bench", Runbook: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		defer l.Release()
		benchWrites(b, st, l)
	})
	b.Run("fsync", func(b *testing.B) {
		st, err := Open(context.Background(), durableServer(b))
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		benchWrites(b, st)
	})
}

// durableServer starts a PostgreSQL server with fsync on and returns a URL.
func durableServer(b *testing.B) string {
	pgtest.Start(b) // skips when PostgreSQL is missing
	ctx := context.Background()
	srv, err := pgserver.Start(ctx, pgserver.Options{Settings: map[string]string{"fsync": "on", "full_page_writes": "on", "synchronous_commit": "on"}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Stop() })
	if err := srv.CreateDatabase(ctx, "state"); err != nil {
		b.Fatal(err)
	}
	return srv.URL("state")
}

// benchWrites measures durable writes, fenced by lock when it is given.
func benchWrites(b *testing.B, st Store, lock ...Lock) {
	w, err := st.Create(context.Background(), "bench", redact.New())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	for _, l := range lock {
		w.(Fencer).Fence(l)
	}
	e := Event{Type: StepStarted, Step: "step-1", Action: "test.echo", Attempt: 1, Key: "0123456789abcdef", Inputs: map[string]any{"n": 1}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := w.Write(e, true); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/write")
}
