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
	if _, err := conn.Exec(ctx, `INSERT INTO runbook.runs (run_id) VALUES ($1)`, runID); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("journal: create run %s: %w", runID, err)
	}
	return newPgLog(conn, runID, 0, r), nil
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
func (p *Postgres) Acquire(ctx context.Context, h Holder) (Lock, error) {
	conn, err := p.connect(ctx, true)
	if err != nil {
		return nil, err
	}
	key := "runbook/" + h.Runbook
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, key).Scan(&got); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("lock: %w", err)
	}
	if !got {
		defer conn.Close(context.Background())
		var data []byte
		other := Holder{Runbook: h.Runbook, Run: "unknown"}
		if conn.QueryRow(ctx, `SELECT holder FROM runbook.locks WHERE runbook = $1`, h.Runbook).Scan(&data) == nil {
			json.Unmarshal(data, &other)
		}
		other.Runbook = h.Runbook
		return nil, &LockedError{Holder: other}
	}
	data, _ := json.Marshal(h)
	if _, err := conn.Exec(ctx, `INSERT INTO runbook.locks (runbook, holder, backend_pid) VALUES ($1, $2, pg_backend_pid())
ON CONFLICT (runbook) DO UPDATE SET holder = EXCLUDED.holder, backend_pid = EXCLUDED.backend_pid, acquired_at = now()`, h.Runbook, data); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("lock: %w", err)
	}
	return &pgLock{conn: conn, runbook: h.Runbook}, nil
}

// pgLock is a held advisory lock and the connection that holds it.
type pgLock struct {
	mu      sync.Mutex
	conn    *pgx.Conn
	runbook string
}

// Release implements Lock: ending the session releases the advisory lock.
func (l *pgLock) Release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l.conn.Exec(ctx, `DELETE FROM runbook.locks WHERE runbook = $1 AND backend_pid = pg_backend_pid()`, l.runbook)
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
// durable Write returns once its insert committed. Concurrent durable
// writes share commits (group commit), as the folder's share fsyncs.
type pgLog struct {
	runID  string
	redact *redact.Redactor
	now    func() time.Time

	mu      sync.Mutex // guards seq, pending, err
	seq     int
	pending []pgRow
	err     error

	dbMu   sync.Mutex // serialises use of conn; guards stored
	conn   *pgx.Conn
	stored int
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
	if durable || full {
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
	ctx, cancel := context.WithTimeout(context.Background(), pgTimeout)
	defer cancel()
	_, err := l.conn.Exec(ctx, `WITH ins AS (
	INSERT INTO runbook.events (run_id, seq, time, type, body)
	SELECT $1, s, t, ty, b::jsonb FROM unnest($2::int[], $3::timestamptz[], $4::text[], $5::text[]) AS u(s, t, ty, b) ORDER BY s
	RETURNING seq)
UPDATE runbook.runs SET last_seq = (SELECT max(seq) FROM ins), updated_at = now() WHERE run_id = $1`, l.runID, seqs, times, types, bodies)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "RB001" || pe.Code == "23505") {
			return fmt.Errorf("journal: run %s: %s: %w", l.runID, pe.Message, ErrSeqConflict)
		}
		return fmt.Errorf("journal: write: %w", err)
	}
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
