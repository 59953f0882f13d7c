package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// defaultMaxRows bounds a query's result unless the step says otherwise:
// rows travel to the engine in one message and land in the journal.
const defaultMaxRows = 10000

// query runs one statement and returns its rows as runtime values.
func query(ctx context.Context, t *target, in map[string]any) (map[string]any, error) {
	maxRows := intOr(in, "max_rows", defaultMaxRows)
	if maxRows < 1 {
		return nil, sdk.BadInput("postgres: query: max_rows must be at least 1, not %d", maxRows)
	}
	conn, err := t.connect(ctx, "query")
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	access := pgx.ReadOnly
	if !boolOr(in, "read_only", true) {
		access = pgx.ReadWrite
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: access})
	if err != nil {
		return nil, t.fail(ctx, "query", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it is a no-op
	out, err := collect(ctx, tx, str(in, "sql"), args(in), maxRows)
	if err != nil {
		return nil, t.fail(ctx, "query", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, t.fail(ctx, "query", err)
	}
	return out, nil
}

// errTooManyRows is returned when a query exceeds max_rows.
var errTooManyRows = errors.New("too many rows")

func collect(ctx context.Context, tx pgx.Tx, sql string, args []any, maxRows int) (map[string]any, error) {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	fields := rows.FieldDescriptions()
	columns := make([]any, len(fields))
	for i, f := range fields {
		columns[i] = f.Name
	}
	out := []any{}
	for rows.Next() {
		if len(out) == maxRows {
			return nil, sdk.BadInput("the query returned more than max_rows (%d) rows: add a LIMIT or an aggregate, or raise max_rows: %w", maxRows, errTooManyRows)
		}
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		row := make(map[string]any, len(vals))
		for i, v := range vals {
			row[fields[i].Name] = runtimeValue(v)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return map[string]any{"rows": out, "count": len(out), "columns": columns}, nil
}

// args returns the step's query arguments.
func args(in map[string]any) []any {
	l, _ := in["args"].([]any)
	return l
}

// execSQL runs a statement that changes the database, or several when
// the step sets multiple_statements.
func execSQL(ctx context.Context, t *target, in map[string]any) (map[string]any, error) {
	multi, _ := in["multiple_statements"].(bool)
	if multi && len(args(in)) > 0 {
		return nil, sdk.BadInput("postgres.exec: multiple_statements takes no args: PostgreSQL binds $1, $2... in one statement only")
	}
	conn, err := t.connect(ctx, "exec")
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var tag pgconn.CommandTag
	switch {
	case multi:
		// The simple protocol: statements separated by ;, one transaction.
		tag, err = conn.Exec(ctx, str(in, "sql"))
	case len(args(in)) > 0:
		tag, err = conn.Exec(ctx, str(in, "sql"), args(in)...)
	default:
		// The extended protocol, which pgx skips when there are no args:
		// the server refuses a second statement.
		res := conn.PgConn().ExecParams(ctx, str(in, "sql"), nil, nil, nil, nil).Read()
		tag, err = res.CommandTag, res.Err
	}
	if err != nil {
		return nil, t.fail(ctx, "exec", err)
	}
	return map[string]any{"rows_affected": int(tag.RowsAffected()), "command": tag.String()}, nil
}

// ping connects and reports the server's version and a round trip.
func ping(ctx context.Context, t *target) (map[string]any, error) {
	conn, err := t.connect(ctx, "ping")
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var version, num, db, user string
	var recovery bool
	start := time.Now()
	err = conn.QueryRow(ctx, `select current_setting('server_version'), current_setting('server_version_num'),
		current_database(), current_user, pg_is_in_recovery()`).Scan(&version, &num, &db, &user, &recovery)
	latency := time.Since(start)
	if err != nil {
		return nil, t.fail(ctx, "ping", err)
	}
	n, _ := strconv.Atoi(num)
	return map[string]any{
		"server_version": version, "server_version_num": n, "latency": latency,
		"database": db, "user": user, "in_recovery": recovery,
	}, nil
}

// waitReady pings until the server answers, a failure that waiting cannot
// fix (refused credentials, say), or the timeout.
func waitReady(ctx context.Context, t *target, in map[string]any, log sdk.Logger) (map[string]any, error) {
	timeout := durationOr(in, "timeout", 2*time.Minute)
	interval := durationOr(in, "interval", time.Second)
	start := time.Now()
	deadline := start.Add(timeout)
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithDeadline(ctx, deadline)
		out, err := ping(actx, t)
		cancel()
		if err == nil {
			log.Printf("%s is ready after %d attempt(s): PostgreSQL %s", t.where, attempt, out["server_version"])
			return map[string]any{"server_version": out["server_version"], "attempts": attempt, "waited": time.Since(start)}, nil
		}
		if ctx.Err() != nil {
			return nil, t.fail(ctx, "wait_ready", ctx.Err())
		}
		if k := sdk.KindOf(err); k != sdk.KindRetryable && k != sdk.KindDeadlineExceeded {
			return nil, err
		}
		if time.Now().Add(interval).After(deadline) {
			return nil, sdk.Retryable(fmt.Errorf("postgres: wait_ready: %s not ready after %s (%d attempts): %w",
				t.where, timeout, attempt, err))
		}
		if attempt == 1 || attempt%10 == 0 {
			log.Printf("waiting for %s: %v", t.where, err)
		}
		select {
		case <-ctx.Done():
			return nil, t.fail(ctx, "wait_ready", ctx.Err())
		case <-time.After(interval):
		}
	}
}

// createDatabase creates the named database unless it exists.
func createDatabase(ctx context.Context, t *target, in map[string]any, log sdk.Logger) (map[string]any, error) {
	name := str(in, "name")
	if name == "" {
		return nil, sdk.BadInput("postgres: create_database: name is empty")
	}
	conn, err := t.connect(ctx, "create_database")
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	exists, err := databaseExists(ctx, conn, name)
	if err != nil {
		return nil, t.fail(ctx, "create_database", err)
	}
	if exists {
		log.Printf("database %q already exists on %s", name, t.where)
		return map[string]any{"name": name, "created": false}, nil
	}
	stmt := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if owner := str(in, "owner"); owner != "" {
		stmt += " OWNER " + pgx.Identifier{owner}.Sanitize()
	}
	if tmpl := str(in, "template"); tmpl != "" {
		stmt += " TEMPLATE " + pgx.Identifier{tmpl}.Sanitize()
	}
	if _, err := conn.Exec(ctx, stmt); err != nil {
		var pg *pgconn.PgError
		if errors.As(err, &pg) && pg.Code == "42P04" { // duplicate_database: created meanwhile
			return map[string]any{"name": name, "created": false}, nil
		}
		return nil, t.fail(ctx, fmt.Sprintf("create database %q", name), err)
	}
	log.Printf("created database %q on %s", name, t.where)
	return map[string]any{"name": name, "created": true}, nil
}

func databaseExists(ctx context.Context, conn *pgx.Conn, name string) (bool, error) {
	var exists bool
	err := conn.QueryRow(ctx, "select exists (select 1 from pg_catalog.pg_database where datname = $1)", name).Scan(&exists)
	return exists, err
}

// reconcileCreate answers Applied when the database exists.
func reconcileCreate(ctx context.Context, t *target, in map[string]any) (sdk.Reconciliation, error) {
	name := str(in, "name")
	conn, err := t.connect(ctx, "create_database")
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	exists, err := databaseExists(ctx, conn, name)
	if err != nil {
		return sdk.Reconciliation{}, t.fail(ctx, "create_database", err)
	}
	if !exists {
		return sdk.Reconciliation{State: sdk.NotApplied}, nil
	}
	return sdk.Reconciliation{State: sdk.Applied, Outputs: map[string]any{"name": name, "created": false}}, nil
}
