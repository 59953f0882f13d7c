package pgtest

import (
	"context"
	"errors"
	"fmt"
	"github.com/alpha-orion/runbook/internal/testenv"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/alpha-orion/runbook/internal/pgserver"
)

func TestMain(m *testing.M) { Main(m) }

func TestSkipOrFail(t *testing.T) {
	t.Parallel()
	missing := fmt.Errorf("%w (looked in /nowhere)", pgserver.ErrNotInstalled)
	broken := errors.New("postgres exited during start-up")
	tests := []struct {
		name        string
		err         error
		ci          bool
		wantSkipped bool
		wantFailed  bool
	}{
		{"not installed, local run", missing, false, true, false},
		{"not installed, CI", missing, true, false, true},
		{"broken install, local run", broken, false, false, true},
		{"broken install, CI", broken, true, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &testenv.Recorder{TB: t}
			skipOrFail(r, tc.err, tc.ci)
			if r.SawSkip != tc.wantSkipped || r.SawFatal != tc.wantFailed {
				t.Errorf("skipped, failed = %v, %v; want %v, %v", r.SawSkip, r.SawFatal, tc.wantSkipped, tc.wantFailed)
			}
		})
	}
}

func TestNewDatabaseIsolated(t *testing.T) {
	t.Parallel()
	srv1, db1 := NewDatabase(t)
	srv2, db2 := NewDatabase(t)
	if srv1 != srv2 {
		t.Errorf("NewDatabase started a second server; want one per test binary")
	}
	if db1 == db2 {
		t.Fatalf("two NewDatabase calls returned the same database %q", db1)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, srv1.URL(db1))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var got string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&got); err != nil || got != db1 {
		t.Fatalf("current_database() = %q, %v; want %q", got, err, db1)
	}
}
