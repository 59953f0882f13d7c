package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/engine/redact"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrSeqConflict is returned when an event's seq does not follow the last
// stored one: another writer appended to the run, or an event went missing.
var ErrSeqConflict = errors.New("journal seq conflict")

// pgTimeout bounds each database round trip a journal write makes; writes
// take no context because a cancelled run still journals how it ended.
const pgTimeout = time.Minute

// maxPending is how many non-durable events a PostgreSQL journal buffers
// before sending them without waiting for a durable one.
const maxPending = 64

// Postgres is the team Store: one row per event in a PostgreSQL database,
// locks as session advisory locks. Its schema (runbook.*) is created and
// migrated by OpenPostgres.
type Postgres struct {
	cfg   *pgx.ConnConfig
	where string

	mu   sync.Mutex // guards conn
	conn *pgx.Conn
}

// OpenPostgres connects to a state database and migrates its schema.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("state database: %w", err)
	}
	// A durable write is a committed insert: never let a server or role
	// default of synchronous_commit=off weaken it.
	cfg.RuntimeParams["synchronous_commit"] = "on"
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "runbook"
	}
	p := &Postgres{cfg: cfg, where: redactURL(dsn)}
	if p.conn, err = p.connect(ctx, false); err != nil {
		return nil, err
	}
	if err := migrate(ctx, p.conn); err != nil {
		p.conn.Close(context.Background())
		return nil, fmt.Errorf("state database %s: %w", p.where, err)
	}
	return p, nil
}

// connect opens a new connection; a lock's connection also asks the server
// to probe the client, so a vanished machine's lock goes within a minute.
func (p *Postgres) connect(ctx context.Context, forLock bool) (*pgx.Conn, error) {
	cfg := p.cfg.Copy()
	if forLock {
		cfg.RuntimeParams["tcp_keepalives_idle"] = "15"
		cfg.RuntimeParams["tcp_keepalives_interval"] = "5"
		cfg.RuntimeParams["tcp_keepalives_count"] = "3"
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("state database %s: %w", p.where, err)
	}
	return conn, nil
}

// redactURL drops the password from a connection URL for messages.
func redactURL(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://…"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// String implements Store.
func (p *Postgres) String() string { return p.where }

// Close implements Store.
func (p *Postgres) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn == nil {
		return nil
	}
	err := p.conn.Close(context.Background())
	p.conn = nil
	return err
}

// Create implements Store.
func (p *Postgres) Create(ctx context.Context, runID string, r *redact.Redactor) (Log, error) {
	conn, err := p.connect(ctx, false)
	if err != nil {
		return nil, err
	}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM runbook.runs WHERE run_id = $1)`, runID).Scan(&exists); err != nil || exists {
		conn.Close(context.Background())
		if err == nil {
			err = errors.New("it exists")
		}
		return nil, fmt.Errorf("journal: create run %s: %w", runID, err)
	}
	l := newPgLog(conn, runID, 0, r)
	// The run's row is inserted with its first events, in one transaction,
	// so a crash before them leaves no run without records.
	l.create = true
	return l, nil
}

// Append implements Store. It fails when the run's journal grew since
// lastSeq was read, so a writer never continues from a stale view.
func (p *Postgres) Append(ctx context.Context, runID string, lastSeq int, r *redact.Redactor) (Log, error) {
	conn, err := p.connect(ctx, false)
	if err != nil {
		return nil, err
	}
	var stored int
	err = conn.QueryRow(ctx, `SELECT last_seq FROM runbook.runs WHERE run_id = $1`, runID).Scan(&stored)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		err = fmt.Errorf("journal: run %s: %w", runID, ErrNotFound)
	case err != nil:
		err = fmt.Errorf("journal: %w", err)
	case stored != lastSeq:
		err = fmt.Errorf("journal: run %s has %d events, not %d as read: %w", runID, stored, lastSeq, ErrSeqConflict)
	}
	if err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return newPgLog(conn, runID, lastSeq, r), nil
}

// Read implements Store.
func (p *Postgres) Read(ctx context.Context, runID string) ([]Event, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var exists bool
	if err := p.conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM runbook.runs WHERE run_id = $1)`, runID).Scan(&exists); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if !exists {
		return nil, fmt.Errorf("run %q: %w (runs are in %s)", runID, ErrNotFound, p.where)
	}
	rows, err := p.conn.Query(ctx, `SELECT seq, body::text FROM runbook.events WHERE run_id = $1 ORDER BY seq`, runID)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var seq int
		var body string
		if err := rows.Scan(&seq, &body); err != nil {
			return out, fmt.Errorf("journal: %w", err)
		}
		var e Event
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			return out, fmt.Errorf("journal: run %s event %d: %w", runID, seq, err)
		}
		if seq != len(out)+1 || e.Seq != seq {
			return out, fmt.Errorf("journal: run %s: event %d found where %d belongs: %w", runID, seq, len(out)+1, ErrSeqConflict)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// List implements Store.
func (p *Postgres) List(ctx context.Context) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rows, err := p.conn.Query(ctx, `SELECT run_id FROM runbook.runs ORDER BY run_id`)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return ids, nil
}

// Acquire implements Store with a session advisory lock on a connection of
// its own: the server releases it when that connection ends, so a crashed
// holder (process killed, machine gone once keepalives fail) frees it.
//
// The lock and its row in runbook.locks change together: taking, reading
// and releasing both happen in a transaction under a second, per-runbook
// transaction lock (metaKey). So a run that finds the lock taken always
// finds its holder's row, and a released lock is free when Release returns.
func (p *Postgres) Acquire(ctx context.Context, h Holder) (Lock, error) {
	conn, err := p.connect(ctx, true)
	if err != nil {
		return nil, err
	}
	var other *Holder
	var token int64
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, metaKey(h.Runbook)); err != nil {
			return err
		}
		var got bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, lockKey(h.Runbook)).Scan(&got); err != nil {
			return err
		}
		if !got {
			var data []byte
			other = &Holder{Run: "unknown"}
			if tx.QueryRow(ctx, `SELECT holder FROM runbook.locks WHERE runbook = $1`, h.Runbook).Scan(&data) == nil {
				json.Unmarshal(data, other)
			}
			other.Runbook = h.Runbook
			return nil
		}
		data, _ := json.Marshal(h)
		return tx.QueryRow(ctx, `INSERT INTO runbook.locks (runbook, holder, backend_pid, token) VALUES ($1, $2, pg_backend_pid(), nextval('runbook.lock_tokens'))
ON CONFLICT (runbook) DO UPDATE SET holder = EXCLUDED.holder, backend_pid = EXCLUDED.backend_pid, token = EXCLUDED.token, acquired_at = now(), heartbeat_at = now()
RETURNING token`, h.Runbook, data).Scan(&token)
	})
	if err != nil || other != nil {
		conn.Close(context.Background())
		if err != nil {
			return nil, fmt.Errorf("lock: %w", err)
		}
		return nil, &LockedError{Holder: *other}
	}
	l := &pgLock{conn: conn, runbook: h.Runbook, token: token, where: p.where, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go l.heartbeat(Heartbeat)
	return l, nil
}

// Heartbeat is how often a PostgreSQL lock's holder checks that it still
// holds its lock (and records in runbook.locks that it is alive).
const Heartbeat = time.Second

// lockKey names a runbook's session advisory lock; metaKey the transaction
// lock under which its lock and its row change.
func lockKey(runbook string) string { return "runbook/" + runbook }
func metaKey(runbook string) string { return "runbook-meta/" + runbook }

// pgLock is a held advisory lock, the connection that holds it, and the
// fencing token its acquisition drew. A heartbeat goroutine checks every
// Heartbeat that the session still holds the lock under that token; once
// it does not, lost is closed and lostErr says why.
type pgLock struct {
	runbook string
	token   int64
	where   string

	mu   sync.Mutex // guards conn and lostErr
	conn *pgx.Conn
	// lostErr is set, and then lost closed, once the lock is gone.
	lostErr error
	lost    chan struct{}
	// stop ends the heartbeat; done is closed when it has.
	stop, done chan struct{}
}

// heartbeat checks the lock every interval until Release or its loss.
func (l *pgLock) heartbeat(interval time.Duration) {
	defer close(l.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		if err := l.beat(); err != nil {
			l.mu.Lock()
			l.lostErr = fmt.Errorf("%w: runbook %s in %s: %w", ErrLockLost, l.runbook, l.where, err)
			l.mu.Unlock()
			close(l.lost)
			return
		}
	}
}

// beat checks the lock once, recording the holder alive.
func (l *pgLock) beat() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return errors.New("released")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*Heartbeat)
	defer cancel()
	tag, err := l.conn.Exec(ctx, `UPDATE runbook.locks SET heartbeat_at = now() WHERE runbook = $1 AND token = $2 AND backend_pid = pg_backend_pid()`, l.runbook, l.token)
	switch {
	case err != nil:
		return fmt.Errorf("its connection failed: %w", err)
	case tag.RowsAffected() != 1:
		return errors.New("another run took it over")
	}
	return nil
}

// Check implements Lock.
func (l *pgLock) Check() error {
	select {
	case <-l.lost:
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.lostErr
	default:
		return nil
	}
}

// Release implements Lock: it deletes the holder's row and unlocks in one
// transaction (see Acquire), then ends the session. On a connection that
// is gone already the server has released the lock itself.
func (l *pgLock) Release() error {
	l.mu.Lock()
	released := l.conn == nil
	l.mu.Unlock()
	if released {
		return nil
	}
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pgx.BeginFunc(ctx, l.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, metaKey(l.runbook)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM runbook.locks WHERE runbook = $1 AND backend_pid = pg_backend_pid()`, l.runbook); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, lockKey(l.runbook))
		return err
	})
	err := l.conn.Close(ctx)
	l.conn = nil
	return err
}

// pgRow is one encoded event waiting to be stored.
type pgRow struct {
	seq  int
	time time.Time
	typ  string
	body string
}

// pgLog appends to one run's events. Non-durable events are buffered and
// stored with the next durable one (or Sync, Close, or a full buffer); a
// durable Write returns once its insert committed. A step's or undo's end
// is always durable: buffered in this process it would be lost with it,
// where the folder's would be in the kernel. Concurrent durable
// writes share commits (group commit), as the folder's share fsyncs.
type pgLog struct {
	runID  string
	redact *redact.Redactor
	now    func() time.Time

	mu      sync.Mutex // guards seq, pending, err
	seq     int
	pending []pgRow
	err     error

	dbMu   sync.Mutex // serialises use of conn; guards stored and fence
	conn   *pgx.Conn
	stored int
	// fence is the lock every insert must still hold; nil for none.
	fence *pgLock
	// create is set until the run's row is stored with its first events.
	create bool
}

// Fence implements Fencer: every later insert checks, in its own
// statement, that the lock is still held under its token.
func (l *pgLog) Fence(lock Lock) {
	if pl, ok := lock.(*pgLock); ok {
		l.dbMu.Lock()
		l.fence = pl
		l.dbMu.Unlock()
	}
}

func newPgLog(conn *pgx.Conn, runID string, lastSeq int, r *redact.Redactor) *pgLog {
	return &pgLog{conn: conn, runID: runID, seq: lastSeq, stored: lastSeq, redact: r, now: time.Now}
}

// Write implements Log.
func (l *pgLog) Write(e Event, durable bool) (Event, error) {
	l.mu.Lock()
	if l.err != nil {
		l.mu.Unlock()
		return e, l.err
	}
	l.seq++
	e.Seq = l.seq
	if e.Time.IsZero() {
		e.Time = l.now().UTC()
	}
	line, err := json.Marshal(mask(l.redact, e))
	if err != nil {
		l.seq--
		l.mu.Unlock()
		return e, fmt.Errorf("journal: encode %s: %w", e.Type, err)
	}
	l.pending = append(l.pending, pgRow{seq: e.Seq, time: e.Time, typ: string(e.Type), body: string(line)})
	full := len(l.pending) >= maxPending
	l.mu.Unlock()
	if durable || full || e.Type.isEnd() {
		return e, l.storeTo(e.Seq)
	}
	return e, nil
}

// storeTo commits every event up to seq, with any others pending.
func (l *pgLog) storeTo(seq int) error {
	l.dbMu.Lock()
	defer l.dbMu.Unlock()
	if l.stored >= seq {
		return nil
	}
	l.mu.Lock()
	rows := l.pending
	l.pending = nil
	err := l.err
	l.mu.Unlock()
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	if err := l.insert(rows); err != nil {
		l.mu.Lock()
		l.err = err // the lost rows leave a gap: refuse every later write
		l.mu.Unlock()
		return err
	}
	l.stored = rows[len(rows)-1].seq
	return nil
}

// insert stores rows and advances the run's last_seq in one statement, so
// one autocommit transaction and one round trip.
func (l *pgLog) insert(rows []pgRow) error {
	seqs := make([]int32, len(rows))
	times := make([]time.Time, len(rows))
	types := make([]string, len(rows))
	bodies := make([]string, len(rows))
	for i, r := range rows {
		seqs[i], times[i], types[i], bodies[i] = int32(r.seq), r.time, r.typ, r.body
	}
	var fenceRunbook *string
	var fenceToken int64
	if l.fence != nil {
		fenceRunbook, fenceToken = &l.fence.runbook, l.fence.token
	}
	ctx, cancel := context.WithTimeout(context.Background(), pgTimeout)
	defer cancel()
	const stmt = `WITH fence AS (
	SELECT CASE WHEN $6::text IS NULL THEN true ELSE runbook.check_lock($6, $7) END AS held),
ins AS (
	INSERT INTO runbook.events (run_id, seq, time, type, body)
	SELECT $1, s, t, ty, b::jsonb FROM unnest($2::int[], $3::timestamptz[], $4::text[], $5::text[]) AS u(s, t, ty, b), fence WHERE fence.held ORDER BY s
	RETURNING seq)
UPDATE runbook.runs SET last_seq = (SELECT max(seq) FROM ins), updated_at = now() WHERE run_id = $1`
	args := []any{l.runID, seqs, times, types, bodies, fenceRunbook, fenceToken}
	var err error
	if l.create {
		// The run's row and its first events commit together.
		err = pgx.BeginFunc(ctx, l.conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO runbook.runs (run_id) VALUES ($1)`, l.runID); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, stmt, args...)
			return err
		})
	} else {
		_, err = l.conn.Exec(ctx, stmt, args...)
	}
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "RB002" {
			return fmt.Errorf("%w: %s (the store refused the write)", ErrLockLost, pe.Message)
		}
		if errors.As(err, &pe) && (pe.Code == "RB001" || pe.Code == "23505") {
			return fmt.Errorf("journal: run %s: %s: %w", l.runID, pe.Message, ErrSeqConflict)
		}
		return fmt.Errorf("%w: write: %w", ErrUnavailable, err)
	}
	l.create = false
	return nil
}

// Sync implements Log.
func (l *pgLog) Sync() error {
	l.mu.Lock()
	seq := l.seq
	l.mu.Unlock()
	return l.storeTo(seq)
}

// Close implements Log.
func (l *pgLog) Close() error {
	err := l.Sync()
	l.dbMu.Lock()
	defer l.dbMu.Unlock()
	if l.conn != nil {
		if cerr := l.conn.Close(context.Background()); err == nil {
			err = cerr
		}
		l.conn = nil
	}
	return err
}
