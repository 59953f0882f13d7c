package pgserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// objectInUse is the SQLSTATE of "database is being accessed by other users".
const objectInUse = "55006"

// Connect opens a connection to database db as the superuser.
func (s *Server) Connect(ctx context.Context, db string) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, s.URL(db))
	if err != nil {
		return nil, fmt.Errorf("pgserver: connect to %q: %w", db, err)
	}
	return conn, nil
}

// ping checks that the server accepts connections.
func (s *Server) ping(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// Exec runs one SQL statement in the maintenance database "postgres".
func (s *Server) Exec(ctx context.Context, sql string, args ...any) error {
	return s.admin(ctx, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, sql, args...)
		return err
	})
}

// ExecURL runs sql (one or more statements, no arguments) on the database
// at url, in a connection of its own.
func ExecURL(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// CreateDatabase creates an empty database called name.
func (s *Server) CreateDatabase(ctx context.Context, name string) error {
	return s.admin(ctx, func(conn *pgx.Conn) error {
		return retryInUse(ctx, func() error {
			_, err := conn.Exec(ctx, "CREATE DATABASE "+quote(name)+s.strategy())
			return err
		})
	})
}

// CloneDatabase creates database name as a copy of template (CREATE DATABASE
// … TEMPLATE). PostgreSQL needs the template to have no other sessions, so
// any open sessions on it are terminated first.
func (s *Server) CloneDatabase(ctx context.Context, name, template string) error {
	return s.admin(ctx, func(conn *pgx.Conn) error {
		return retryInUse(ctx, func() error {
			if err := terminate(ctx, conn, template); err != nil {
				return err
			}
			_, err := conn.Exec(ctx, "CREATE DATABASE "+quote(name)+" TEMPLATE "+quote(template)+s.strategy())
			return err
		})
	})
}

// RenameDatabase renames database from to to, terminating its open sessions.
func (s *Server) RenameDatabase(ctx context.Context, from, to string) error {
	return s.admin(ctx, func(conn *pgx.Conn) error {
		return retryInUse(ctx, func() error {
			if err := terminate(ctx, conn, from); err != nil {
				return err
			}
			_, err := conn.Exec(ctx, "ALTER DATABASE "+quote(from)+" RENAME TO "+quote(to))
			return err
		})
	})
}

// DropDatabase drops database name if it exists, terminating its open sessions.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	return s.Exec(ctx, "DROP DATABASE IF EXISTS "+quote(name)+" WITH (FORCE)")
}

// TerminateSessions ends every session connected to database name.
func (s *Server) TerminateSessions(ctx context.Context, name string) error {
	return s.admin(ctx, func(conn *pgx.Conn) error { return terminate(ctx, conn, name) })
}

// DatabaseExists reports whether database name exists.
func (s *Server) DatabaseExists(ctx context.Context, name string) (bool, error) {
	var ok bool
	err := s.admin(ctx, func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&ok)
	})
	return ok, err
}

// admin runs f on a fresh connection to the maintenance database.
func (s *Server) admin(ctx context.Context, f func(*pgx.Conn) error) error {
	conn, err := s.Connect(ctx, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if err := f(conn); err != nil {
		return fmt.Errorf("pgserver: %w", err)
	}
	return nil
}

// terminate ends the sessions connected to database name, other than conn's.
func terminate(ctx context.Context, conn *pgx.Conn, name string) error {
	_, err := conn.Exec(ctx,
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
	return err
}

// retryInUse retries f while it fails because a database has other sessions:
// a client may reconnect between terminating sessions and the statement.
func retryInUse(ctx context.Context, f func() error) error {
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		if err = f(); !isInUse(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return err
}

// isInUse reports whether err is PostgreSQL's "being accessed by other users".
func isInUse(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == objectInUse
}

// strategy picks FILE_COPY where PostgreSQL offers a choice (15+): with fsync
// off its checkpoint is cheap, and it beats WAL-logging every block of a small
// database by about half.
func (s *Server) strategy() string {
	if s.version >= 150000 {
		return " STRATEGY = FILE_COPY"
	}
	return ""
}

// readVersion records the server's version number, e.g. 150013.
func (s *Server) readVersion(ctx context.Context) error {
	return s.admin(ctx, func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&s.version)
	})
}

// Version returns the server's version number, e.g. 150013 for 15.13.
func (s *Server) Version() int { return s.version }

// quote quotes an SQL identifier.
func quote(name string) string { return pgx.Identifier{name}.Sanitize() }
