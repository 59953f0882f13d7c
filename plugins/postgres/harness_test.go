package postgres_test

import (
	"context"
	"fmt"
	"github.com/alpha-orion/runbook/internal/testenv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/internal/pgserver"
	"github.com/alpha-orion/runbook/internal/pgserver/pgtest"
	"github.com/alpha-orion/runbook/plugins/gcs"
	"github.com/alpha-orion/runbook/plugins/host"
	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/postgres"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// The test binary serves the plugins when the host re-executes it, so every
// action below runs in a plugin process of its own, as in production.
func TestMain(m *testing.M) {
	plugintest.ServeIfPlugin(map[string]func() sdk.Plugin{postgres.Name: postgres.New, gcs.Name: gcs.New})
	// Each test's Manager kills its plugins when the test ends; Main stops
	// the shared PostgreSQL server and exits.
	pgtest.Main(m)
}

var testCatalog = catalog.MustNew(postgres.Spec, gcs.Spec)

// pluginHost runs actions through a real host.Manager.
type pluginHost struct {
	t   *testing.T
	mgr *host.Manager

	mu   sync.Mutex
	logs []string
}

// newHost starts nothing yet; the first call starts the plugin processes.
func newHost(t *testing.T, config map[string]map[string]any) *pluginHost {
	t.Helper()
	mgr := host.New(host.Options{Builtins: []string{postgres.Name, gcs.Name}, Config: config, Catalog: testCatalog})
	t.Cleanup(func() { mgr.Close() })
	return &pluginHost{t: t, mgr: mgr}
}

var keySeq struct {
	sync.Mutex
	n int
}

func nextKey(t *testing.T) string {
	keySeq.Lock()
	defer keySeq.Unlock()
	keySeq.n++
	return fmt.Sprintf("%s/%d/%d", t.Name(), os.Getpid(), keySeq.n)
}

// run executes uses (plugin.action) with inputs and a fresh idempotency key.
func (h *pluginHost) run(uses string, inputs map[string]any) (map[string]any, error) {
	return h.runKey(uses, inputs, nextKey(h.t))
}

func (h *pluginHost) runKey(uses string, inputs map[string]any, key string) (map[string]any, error) {
	h.t.Helper()
	name, action, _ := strings.Cut(uses, ".")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req := sdk.Request{RunID: "run-1", StepID: action, Action: action, Inputs: inputs, IdempotencyKey: key, Attempt: 1}
	return h.mgr.Execute(ctx, name, req, func(l sdk.LogLine) {
		h.mu.Lock()
		h.logs = append(h.logs, l.Message)
		h.mu.Unlock()
	})
}

// must runs uses and fails the test on an error.
func (h *pluginHost) must(uses string, inputs map[string]any) map[string]any {
	h.t.Helper()
	out, err := h.run(uses, inputs)
	if err != nil {
		h.t.Fatalf("%s: %v", uses, err)
	}
	return out
}

func (h *pluginHost) reconcile(uses string, inputs map[string]any, key string) (sdk.Reconciliation, error) {
	name, action, _ := strings.Cut(uses, ".")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return h.mgr.Reconcile(ctx, name, sdk.Request{RunID: "run-1", StepID: action, Action: action, Inputs: inputs, IdempotencyKey: key, Attempt: 2})
}

func (h *pluginHost) plan(uses string, inputs map[string]any) (sdk.Plan, error) {
	name, action, _ := strings.Cut(uses, ".")
	return h.mgr.Plan(context.Background(), name, sdk.Request{RunID: "run-1", StepID: action, Action: action, Inputs: inputs})
}

func (h *pluginHost) allLogs() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.logs, "\n")
}

// seed creates the application's tables in db with n users and 2n orders,
// the newest user created a minute ago.
func seed(t *testing.T, srv *pgserver.Server, db string, n int) {
	t.Helper()
	ctx := context.Background()
	conn, err := srv.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, fmt.Sprintf(`
		create table users (id bigserial primary key, email text not null unique, active boolean not null default true,
			created_at timestamptz not null);
		create table orders (id bigserial primary key, user_id bigint not null references users(id), total numeric(10,2) not null);
		insert into users (email, created_at)
			select 'user' || i || '@example.com', now() - (%[1]d - i + 1) * interval '1 minute' from generate_series(1, %[1]d) i;
		insert into orders (user_id, total) select (i %% %[1]d) + 1, i * 1.25 from generate_series(1, %[1]d * 2) i;`, n))
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
}

// binDir is where the test finds pg_dump.
func binDir(t *testing.T) string {
	t.Helper()
	dir, err := pgserver.FindBinDir("")
	testenv.Missing(t, "PostgreSQL client tools", err)
	return dir
}

// pgDump dumps db with the real pg_dump in the given format (plain,
// custom, tar, directory) and returns the file.
func pgDump(t *testing.T, srv *pgserver.Server, db, format string) string {
	t.Helper()
	ext := map[string]string{"plain": ".sql", "custom": ".dump", "tar": ".tar", "directory": ".d"}[format]
	out := filepath.Join(t.TempDir(), db+ext)
	cmd := exec.Command(filepath.Join(binDir(t), "pg_dump"), "--no-password", "--format="+format, "--file="+out, "-d", srv.URL(db))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v: %s", err, b)
	}
	return out
}

// tablesOf lists db's tables in the public schema, sorted.
func tablesOf(t *testing.T, srv *pgserver.Server, db string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := srv.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "select tablename from pg_tables where schemaname = 'public' order by 1")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// sentinel puts a table with one row in db, to show a failed restore
// leaves the database as it was.
func sentinel(t *testing.T, srv *pgserver.Server, db string) {
	t.Helper()
	if err := execIn(srv, db, "create table before_restore (note text); insert into before_restore values ('untouched')"); err != nil {
		t.Fatal(err)
	}
}

func execIn(srv *pgserver.Server, db, sql string) error {
	ctx := context.Background()
	conn, err := srv.Connect(ctx, db)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// inProcess runs an action on a plugin in this process: no SDK masks its
// errors or log lines, so what the plugin itself says is what the test sees.
func inProcess(t *testing.T, action string, inputs map[string]any) (map[string]any, error) {
	t.Helper()
	p := postgres.New()
	if err := p.Configure(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	log := &memLog{}
	out, err := p.Execute(context.Background(), sdk.Request{RunID: "r", StepID: action, Action: action, Inputs: inputs, IdempotencyKey: nextKey(t)}, log)
	if err != nil {
		err = fmt.Errorf("%w (log: %s)", err, strings.Join(log.lines, " | "))
	}
	return out, err
}

type memLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *memLog) Printf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *memLog) Warnf(format string, args ...any) { l.Printf("WARN "+format, args...) }

func withURL(in map[string]any, url string) map[string]any {
	out := map[string]any{"url": url}
	for k, v := range in {
		out[k] = v
	}
	return out
}

// writeFile writes content to a file in a temporary folder.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
