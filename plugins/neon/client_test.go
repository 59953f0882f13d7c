package neon

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/internal/apicontract"
	"github.com/alpha-orion/runbook/plugins/internal/httpapi"
	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/neon/neonemu"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// testClient returns a client of an in-process emulator with a seeded project.
func testClient(t *testing.T) (*Client, *neonemu.Emulator, *plugintest.Recorder, neonemu.Project, neonemu.Branch) {
	t.Helper()
	emu := neonemu.New(neonemu.Options{APIKey: canaryKey})
	rec := &plugintest.Recorder{H: apicontract.Watch(t, "neon").Handler(emu)} // every exchange checked against the contract
	srv := httptest.NewServer(rec)
	t.Cleanup(func() { srv.Close(); _ = emu.Close() })
	p, b, err := emu.Seed(context.Background(), neonemu.ProjectSpec{})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(config{projectID: p.ID, Settings: httpapi.Settings{APIKey: canaryKey, BaseURL: srv.URL + neonemu.BasePath,
		Retries: 2, RetryDelay: time.Millisecond, RequestTimeout: 5 * time.Second}}, nil)
	return c, emu, rec, p, b
}

func TestClientShapes(t *testing.T) {
	t.Parallel()
	c, emu, rec, p, main := testClient(t)
	ctx := context.Background()
	for _, name := range []string{"a", "b", "c"} {
		if _, err := emu.CreateBranch(ctx, p.ID, name, main.ID); err != nil {
			t.Fatal(err)
		}
	}

	c.pageSize = 1
	all, err := c.ListBranches(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 {
		t.Fatalf("ListBranches over pages of 1: %d branches, want 4", len(all))
	}
	if got := rec.Last("GET"); got.Auth != "Bearer "+canaryKey || !strings.Contains(got.Query, "limit=1") {
		t.Errorf("list request: auth %q, query %q", got.Auth, got.Query)
	}
	c.pageSize = 0

	b, err := c.FindBranch(ctx, "main")
	if err != nil || b.ID != main.ID || !b.Default || b.CurrentState != "ready" {
		t.Fatalf("FindBranch(main) = %+v, %v", b, err)
	}
	at := time.Now().UTC()
	_, ops, _, err := c.RestoreBranch(ctx, main.ID, RestoreRequest{SourceBranchID: main.ID,
		SourceTimestamp: at.Format(time.RFC3339Nano), PreserveUnderName: "kept"})
	if err != nil {
		t.Fatal(err)
	}
	body := rec.Last("POST").Body
	if body["source_branch_id"] != main.ID || body["preserve_under_name"] != "kept" || body["source_timestamp"] == nil {
		t.Errorf("restore body = %v", body)
	}
	if _, has := body["source_lsn"]; has {
		t.Errorf("restore body has source_lsn although none was given: %v", body)
	}
	if len(ops) == 0 || ops[0].ID == "" || ops[0].BranchID != main.ID || ops[0].Status == "" {
		t.Fatalf("restore operations = %+v", ops)
	}
	op, err := c.GetOperation(ctx, ops[0].ID)
	if err != nil || op.ID != ops[0].ID || op.Action == "" {
		t.Errorf("GetOperation = %+v, %v", op, err)
	}
	listed, err := c.ListOperations(ctx)
	if err != nil || len(listed) < len(ops) {
		t.Errorf("ListOperations = %d operations, %v", len(listed), err)
	}
	restored, err := c.GetBranch(ctx, main.ID)
	if err != nil || restored.Name != "main" || restored.LastResetAt == nil {
		t.Errorf("restored branch = %+v, %v; want main with last_reset_at", restored, err)
	}
	if kept, ok, err := c.BranchNamed(ctx, "kept"); err != nil || !ok || kept.ID == main.ID {
		t.Errorf("kept branch = %+v, %v, %v; want a branch of its own", kept, ok, err)
	}

	uri, err := c.ConnectionURI(ctx, ConnParams{BranchID: main.ID, DatabaseName: "neondb", RoleName: "neondb_owner", Pooled: true})
	if err != nil || !strings.HasPrefix(uri, "postgres://") {
		t.Fatalf("ConnectionURI = %q, %v", uri, err)
	}
	q := rec.Last("GET").Query
	for _, w := range []string{"branch_id=" + main.ID, "database_name=neondb", "role_name=neondb_owner", "pooled=true"} {
		if !strings.Contains(q, w) {
			t.Errorf("connection_uri query %q lacks %q", q, w)
		}
	}
}

func TestClientErrors(t *testing.T) {
	t.Parallel()
	c, emu, _, _, main := testClient(t)
	ctx := context.Background()

	_, err := c.GetBranch(ctx, "br-missing-000000")
	plugintest.WantKind(t, err, sdk.KindNotFound, "neon: get branch br-missing-000000: 404 Not Found", "not found", "request_id")

	emu.FailNext(1, http.StatusLocked)
	if _, err := c.GetBranch(ctx, main.ID); err != nil {
		t.Errorf("one 423 then success: %v", err)
	}
	emu.FailNext(10, http.StatusBadGateway)
	_, err = c.GetBranch(ctx, main.ID)
	plugintest.WantKind(t, err, sdk.KindRetryable, "502", "gave up after 3 attempts")
	emu.ClearFaults()

	c.api.Key = "wrong"
	_, err = c.GetBranch(ctx, main.ID)
	plugintest.WantKind(t, err, sdk.KindUnauthenticated, "401", "check the neon api_key setting")

	// Refused connections are retried, then retryable.
	dead := NewClient("http://127.0.0.1:1/", "k", "p")
	dead.api.Retries, dead.api.Delay = 1, time.Millisecond
	_, err = dead.GetBranch(ctx, "br-x")
	plugintest.WantKind(t, err, sdk.KindRetryable, "neon: get branch br-x", "connection refused")
}

// TestClientRetryAfterAndCancel: a Retry-After is honoured (capped), and a
// cancelled context ends the backoff at once.
func TestClientRetryAfterAndCancel(t *testing.T) {
	t.Parallel()
	calls := 0
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"code":"","message":"slow down"}`))
			return
		}
		_, _ = w.Write([]byte(`{"branch":{"id":"br-x","name":"x"}}`))
	}))
	defer srv.Close()
	c := newClient(config{projectID: "p", Settings: httpapi.Settings{APIKey: "k", BaseURL: srv.URL, Retries: 3,
		RetryDelay: time.Millisecond, RequestTimeout: time.Second}}, nil)
	c.api.MaxDelay = 20 * time.Millisecond
	start := time.Now()
	b, err := c.GetBranch(context.Background(), "br-x")
	if err != nil || b.Name != "x" {
		t.Fatalf("GetBranch = %+v, %v", b, err)
	}
	if d := time.Since(start); d < 20*time.Millisecond || d > 2*time.Second {
		t.Errorf("the retry waited %s, want the capped Retry-After (20ms)", d)
	}

	c.api.MaxDelay = time.Hour
	c.api.Delay = time.Hour
	mu.Lock()
	calls = 0
	mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start = time.Now()
	_, err = c.GetBranch(ctx, "br-x")
	plugintest.WantKind(t, err, sdk.KindCanceled, "neon: get branch br-x", "429", "canceled")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancel took %s to end the backoff", d)
	}
}

func TestPreserveNameIsStable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		branch, key string
	}{
		{"main", "run-1/restore"},
		{"main", "run-2/restore"},
		{"prod", "run-1/restore"},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		a, b := preserveName(tc.branch, tc.key), preserveName(tc.branch, tc.key)
		if a != b {
			t.Errorf("preserveName(%q, %q) changes: %q, %q", tc.branch, tc.key, a, b)
		}
		if !strings.HasPrefix(a, tc.branch+"_before_restore_") || seen[a] {
			t.Errorf("preserveName(%q, %q) = %q: not distinct or not prefixed", tc.branch, tc.key, a)
		}
		seen[a] = true
	}
}
