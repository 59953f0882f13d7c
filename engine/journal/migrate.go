package journal

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migration is one versioned change to the PostgreSQL state schema. A
// migration is applied once, in a transaction, and never edited once
// released: a change is a new migration.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations are the state schema's history, oldest first.
var migrations = []migration{
	{1, "runs, events and locks", `
CREATE TABLE runbook.runs (
	run_id     text PRIMARY KEY,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	last_seq   integer NOT NULL DEFAULT 0
);
CREATE TABLE runbook.events (
	run_id text NOT NULL REFERENCES runbook.runs (run_id),
	seq    integer NOT NULL CHECK (seq > 0),
	time   timestamptz NOT NULL,
	type   text NOT NULL,
	body   jsonb NOT NULL,
	PRIMARY KEY (run_id, seq)
);
-- A journal has no gaps: every event follows the last one stored.
CREATE FUNCTION runbook.event_follows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.seq <> COALESCE((SELECT max(seq) FROM runbook.events WHERE run_id = NEW.run_id), 0) + 1 THEN
		RAISE EXCEPTION 'run %: event % does not follow the last stored one', NEW.run_id, NEW.seq
			USING ERRCODE = 'RB001';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER event_follows BEFORE INSERT ON runbook.events
	FOR EACH ROW EXECUTE FUNCTION runbook.event_follows();
CREATE TABLE runbook.locks (
	runbook     text PRIMARY KEY,
	holder      jsonb NOT NULL,
	backend_pid integer NOT NULL,
	acquired_at timestamptz NOT NULL DEFAULT now()
);`},
	{2, "fencing tokens and heartbeats", `
CREATE SEQUENCE runbook.lock_tokens;
ALTER TABLE runbook.locks
	ADD COLUMN token bigint NOT NULL DEFAULT 0,
	ADD COLUMN heartbeat_at timestamptz NOT NULL DEFAULT now();
-- check_lock passes while the holder with this fencing token still holds
-- the runbook's advisory lock (its session is alive), and keeps the row
-- from changing hands until the caller's transaction ends.
CREATE FUNCTION runbook.check_lock(rb text, tok bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM runbook.locks l WHERE l.runbook = rb AND l.token = tok
		AND EXISTS (SELECT 1 FROM pg_locks p WHERE p.locktype = 'advisory' AND p.pid = l.backend_pid AND p.granted)
		FOR SHARE OF l;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'the lock of runbook % is gone: another run holds it, or its holder''s connection ended', rb
			USING ERRCODE = 'RB002';
	END IF;
	RETURN true;
END $$;`},
}

// SchemaVersion is the state schema version this build writes.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// migrate brings the state schema up to date. Concurrent callers are safe:
// each migration runs in a transaction under one advisory lock and checks
// again, inside it, whether it was applied.
func migrate(ctx context.Context, conn *pgx.Conn) error {
	var have int
	err := conn.QueryRow(ctx, `SELECT COALESCE(max(version), 0) FROM runbook.schema_migrations`).Scan(&have)
	if err == nil && have == SchemaVersion() {
		return nil
	}
	if have > SchemaVersion() {
		return fmt.Errorf("state schema version %d is newer than this runbook knows (%d); upgrade runbook", have, SchemaVersion())
	}
	for _, m := range migrations {
		if err := apply(ctx, conn, m); err != nil {
			return fmt.Errorf("migrate state schema to version %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

// apply runs one migration unless it ran already.
func apply(ctx context.Context, conn *pgx.Conn, m migration) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('runbook.schema_migrations', 0))`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS runbook;
CREATE TABLE IF NOT EXISTS runbook.schema_migrations (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`); err != nil {
			return err
		}
		var have int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(max(version), 0) FROM runbook.schema_migrations`).Scan(&have); err != nil {
			return err
		}
		if have > SchemaVersion() {
			return fmt.Errorf("state schema version %d is newer than this runbook knows (%d); upgrade runbook", have, SchemaVersion())
		}
		var done bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM runbook.schema_migrations WHERE version = $1)`, m.version).Scan(&done); err != nil || done {
			return err
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO runbook.schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name)
		return err
	})
}
