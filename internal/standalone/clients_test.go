package standalone

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/internal/apicontract"
	"github.com/alpha-orion/runbook/internal/pgserver"
	"github.com/alpha-orion/runbook/internal/testenv"
	"github.com/jackc/pgx/v5"
)

// The clients test lets clients nobody here wrote judge the Neon stand-in:
// Neon's own CLI (neonctl) and TypeScript client (@neondatabase/api-client),
// pinned in testdata/neonclients, drive `runbook-sandbox serve neon` through
// a proxy that checks every exchange against the Neon contract.

// clientsDir holds the pinned clients (package.json and its lock) and the
// api-client script.
const clientsDir = "testdata/neonclients"

// installClients runs npm ci in clientsDir unless it was run; it returns node.
func installClients(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	testenv.Missing(t, "node (for Neon's clients)", err)
	for _, p := range []string{"node_modules/neonctl/package.json", "node_modules/@neondatabase/api-client/package.json"} {
		if _, err := os.Stat(filepath.Join(clientsDir, p)); err == nil {
			continue
		}
		npm, err := exec.LookPath("npm")
		testenv.Missing(t, "npm (to install Neon's clients)", err)
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = clientsDir
		out, err := cmd.CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, out)
		}
		testenv.Missing(t, "npm ci in "+clientsDir, err)
		break
	}
	return node
}

// startNeon builds runbook-sandbox, runs `serve neon --json` and returns
// what it printed; the process gets SIGINT when the test ends and must exit.
func startNeon(t *testing.T) Info {
	t.Helper()
	_, err := pgserver.FindBinDir("")
	testenv.Missing(t, "PostgreSQL server binaries (Debian package postgresql)", err)
	bin := filepath.Join(t.TempDir(), "runbook-sandbox")
	if err := testenv.Build(bin, "./cmd/runbook-sandbox"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "neon", "--json", "--addr", "127.0.0.1:0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("runbook-sandbox serve neon after SIGINT: %v\n%s", err, stderr.String())
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("runbook-sandbox serve neon did not stop on SIGINT\n%s", stderr.String())
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = stdout.Read(make([]byte, 1)) // drain until exit
		exited <- cmd.Wait()
	}()
	var line string
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatalf("runbook-sandbox serve neon printed nothing\n%s", stderr.String())
		}
		line = l
	case <-time.After(2 * time.Minute):
		t.Fatalf("runbook-sandbox serve neon printed nothing in 2 minutes\n%s", stderr.String())
	}
	var info Info
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("serve neon --json printed %q: %v", line, err)
	}
	return info
}

// contractProxy serves the stand-in at base through a reverse proxy that
// checks each exchange against contract name; it returns the proxy's
// base URL and the checker.
func contractProxy(t *testing.T, name, base string) (string, *apicontract.Checker) {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	target := &url.URL{Scheme: u.Scheme, Host: u.Host}
	checker := apicontract.Watch(t, name)
	srv := httptest.NewServer(checker.Handler(httputil.NewSingleHostReverseProxy(target)))
	t.Cleanup(srv.Close)
	return srv.URL + u.Path, checker
}

// rows counts the seeded table's rows through a connection URI.
func rows(t *testing.T, uri, table string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		t.Fatalf("connect with the URI the client printed: %v", err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "select count(*) from "+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// run runs a client with env, failing the test on an error; it returns stdout.
func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// TestNeonOfficialClients drives the served Neon stand-in with neonctl and
// @neondatabase/api-client: list branches, restore main to a moment of its
// history keeping the old state under another name, follow the operations
// to the end, read the connection string, and check through it with SQL
// that the data is what it was at that moment.
func TestNeonOfficialClients(t *testing.T) {
	node := installClients(t)
	info := startNeon(t)
	if len(info.History) < 2 || info.Table == "" || info.Rows <= info.History[len(info.History)-1].Rows {
		t.Fatalf("seed = %+v, want two history points and rows added since", info)
	}
	api, checker := contractProxy(t, "neon", info.URL)
	home := t.TempDir()
	env := []string{"NEON_API_KEY=" + info.APIKey, "HOME=" + home, "XDG_CONFIG_HOME=" + home, "NO_COLOR=1", "CI=true"}
	neonctl := func(args ...string) string {
		t.Helper()
		base := []string{filepath.Join(clientsDir, "node_modules", "neonctl", "bin", "cli.js"),
			"--api-host", api, "--no-analytics", "--config-dir", home, "--project-id", info.ProjectID}
		return run(t, env, node, append(base, args...)...)
	}
	// A moment between the two history points, on whole seconds as users type them.
	at := func(i int) string { return info.History[i].Time.Add(time.Minute).UTC().Format(time.RFC3339) }

	// neonctl: list, restore main to the first point, wait, connect.
	var branches []struct{ ID, Name string }
	if err := json.Unmarshal([]byte(neonctl("branches", "list", "-o", "json")), &branches); err != nil {
		t.Fatal(err)
	}
	if len(branches) != 1 || branches[0].Name != info.Branch || branches[0].ID != info.BranchID {
		t.Fatalf("neonctl branches list = %+v, want only %s (%s)", branches, info.Branch, info.BranchID)
	}
	// neonctl shows a backup branch only when the restored branch has a
	// parent; main is a root branch, and Neon leaves both branches roots
	// after restoring one (docs/providers.md), so it prints the restored
	// branch alone and the list shows the backup.
	var restored struct{ ID, Name string }
	out := neonctl("branches", "restore", info.Branch, "^self@"+at(0), "--preserve-under-name", "main-before-cli", "-o", "json")
	if err := json.Unmarshal([]byte(out), &restored); err != nil {
		t.Fatalf("neonctl branches restore printed %q: %v", out, err)
	}
	if restored.ID != info.BranchID || restored.Name != info.Branch {
		t.Fatalf("neonctl branches restore = %+v (printed %s), want %s (%s) restored in place", restored, out, info.Branch, info.BranchID)
	}
	branches = nil
	if err := json.Unmarshal([]byte(neonctl("branches", "list", "-o", "json")), &branches); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(branches, func(b struct{ ID, Name string }) bool { return b.Name == "main-before-cli" && b.ID != info.BranchID }) {
		t.Fatalf("neonctl branches list after the restore = %+v, want the state before it kept as main-before-cli", branches)
	}
	for polls := 0; ; polls++ {
		var ops []struct{ ID, Status string }
		if err := json.Unmarshal([]byte(neonctl("operations", "list", "-o", "json")), &ops); err != nil {
			t.Fatal(err)
		}
		if len(ops) == 0 {
			t.Fatal("neonctl operations list: none, want the restore's")
		}
		if !slices.ContainsFunc(ops, func(op struct{ ID, Status string }) bool { return op.Status != "finished" }) {
			break
		}
		if polls == 20 {
			t.Fatalf("operations still unfinished after %d lists: %+v", polls, ops)
		}
	}
	uri := strings.TrimSpace(neonctl("connection-string", info.Branch, "--database-name", info.Database, "--role-name", info.Role, "--ssl", "omit"))
	if !strings.HasPrefix(uri, "postgresql://"+info.Role+":") {
		t.Fatalf("neonctl connection-string = %q, want a URI for role %s", uri, info.Role)
	}
	if got, want := rows(t, uri, info.Table), info.History[0].Rows; got != want {
		t.Errorf("after neonctl restored %s to %s: %d rows, want %d (the state then)", info.Branch, at(0), got, want)
	}

	// @neondatabase/api-client: restore main to the second point, poll, connect.
	out = run(t, append(env, "NEON_API_HOST="+api, "PROJECT_ID="+info.ProjectID, "BRANCH="+info.Branch, "TIMESTAMP="+at(1),
		"PRESERVE=main-before-script", "DATABASE="+info.Database, "ROLE="+info.Role), node, filepath.Join(clientsDir, "restore.mjs"))
	var script struct {
		BranchesBefore []string `json:"branches_before"`
		BranchesAfter  []string `json:"branches_after"`
		Restored       struct{ ID, Name string }
		Operations     []struct{ ID, Action, Status string }
		URI            string
	}
	if err := json.Unmarshal([]byte(out), &script); err != nil {
		t.Fatalf("restore.mjs printed %q: %v", out, err)
	}
	if want := []string{"main", "main-before-cli"}; !slices.Equal(script.BranchesBefore, want) {
		t.Errorf("api-client branches before = %v, want %v", script.BranchesBefore, want)
	}
	if want := []string{"main", "main-before-cli", "main-before-script"}; !slices.Equal(script.BranchesAfter, want) {
		t.Errorf("api-client branches after = %v, want %v", script.BranchesAfter, want)
	}
	if script.Restored.ID != info.BranchID || len(script.Operations) == 0 {
		t.Errorf("api-client restore = %+v, want %s with operations", script, info.BranchID)
	}
	for _, op := range script.Operations {
		if op.Status != "finished" {
			t.Errorf("operation %s (%s) ended %s, want finished", op.ID, op.Action, op.Status)
		}
	}
	if got, want := rows(t, script.URI, info.Table), info.History[1].Rows; got != want {
		t.Errorf("after the api-client restored %s to %s: %d rows, want %d (the state then)", info.Branch, at(1), got, want)
	}

	// Every operation the clients used went through the contract check.
	calls := checker.Calls()
	for _, op := range []string{"listProjectBranches", "restoreProjectBranch", "getProjectOperation", "listProjectOperations",
		"getConnectionURI", "listProjectBranchEndpoints", "listProjectBranchDatabases", "getProjectBranchRolePassword"} {
		if calls[op] == 0 {
			t.Errorf("the clients never called %s through the proxy (calls: %v)", op, calls)
		}
	}
	// The checker's violations, if any, fail the test when it ends (apicontract.Watch).
}
