package plugintest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// ExecSQL runs statements, in order, on the PostgreSQL database at uri.
func ExecSQL(t testing.TB, uri string, statements ...string) {
	t.Helper()
	conn := connect(t, uri)
	for _, s := range statements {
		if _, err := conn.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// QueryInt returns the one integer query answers on the database at uri,
// e.g. "SELECT count(*) FROM users".
func QueryInt(t testing.TB, uri, query string) int {
	t.Helper()
	conn := connect(t, uri)
	var n int
	if err := conn.QueryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// connect opens a connection to uri, closed when the helper's test ends.
func connect(t testing.TB, uri string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}
