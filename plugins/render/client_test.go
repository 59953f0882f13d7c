package render

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/internal/apicontract"
	"github.com/alpha-orion/runbook/plugins/internal/httpapi"
	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/render/renderemu"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// testClient returns a client of an in-process emulator seeded with the Alpha-Orion estate.
func testClient(t *testing.T) (*Client, *renderemu.Emulator, *plugintest.Recorder, renderemu.AlphaOrion) {
	t.Helper()
	emu := renderemu.New(renderemu.Options{APIKey: canaryKey})
	rec := &plugintest.Recorder{H: apicontract.Watch(t, "render").Handler(emu)} // every exchange checked against the contract
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	estate, err := emu.SeedAlphaOrion("postgres://u:p@h/db")
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(config{httpapi.Settings{APIKey: canaryKey, BaseURL: srv.URL + renderemu.BasePath, Retries: 2,
		RetryDelay: time.Millisecond, RequestTimeout: 5 * time.Second}}, nil)
	return c, emu, rec, estate
}

func TestClientShapes(t *testing.T) {
	t.Parallel()
	c, emu, rec, estate := testClient(t)
	ctx := context.Background()

	c.pageSize = 1
	all, err := c.ListServices(ctx, "")
	if err != nil || len(all) != 2 {
		t.Fatalf("ListServices over pages of 1 = %d services, %v; want 2", len(all), err)
	}
	c.pageSize = 0
	if got := rec.Last("GET"); got.Auth != "Bearer "+canaryKey {
		t.Errorf("auth header = %q", got.Auth)
	}
	svc, err := c.FindService(ctx, "user-api-service")
	if err != nil || svc.ID != estate.UserAPI.ID || svc.ServiceDetails.NumInstances != 2 || svc.ServiceDetails.Region != "oregon" || svc.IsSuspended() {
		t.Fatalf("FindService = %+v, %v", svc, err)
	}
	if q := rec.Last("GET").Query; !strings.Contains(q, "name=user-api-service") {
		t.Errorf("find by name query = %q", q)
	}

	if err := c.Scale(ctx, svc.ID, 4); err != nil {
		t.Fatal(err)
	}
	if b := rec.Last("POST").Body; b["numInstances"] != float64(4) {
		t.Errorf("scale body = %v", b)
	}
	d, ok, err := c.CreateDeploy(ctx, svc.ID, DeployRequest{ClearCache: "clear", CommitID: "abc"}, nil)
	if err != nil || !ok || d.ID == "" || d.Status != "created" || d.CommitID() != "abc" {
		t.Fatalf("CreateDeploy = %+v, %v, %v", d, ok, err)
	}
	if b := rec.Last("POST").Body; b["clearCache"] != "clear" || b["commitId"] != "abc" {
		t.Errorf("deploy body = %v", b)
	}
	emu.AnswerNextDeploysWithoutBody(1)
	if _, ok, err := c.CreateDeploy(ctx, svc.ID, DeployRequest{}, nil); err != nil || ok {
		t.Errorf("CreateDeploy answered 202 = ok %v, %v; want no deploy and no error", ok, err)
	}
	ds, err := c.ListDeploys(ctx, svc.ID, 10)
	if err != nil || len(ds) != 3 || ds[1].ID != d.ID {
		t.Errorf("ListDeploys = %+v, %v; want 3, newest first", ds, err)
	}
	got, err := c.GetDeploy(ctx, svc.ID, d.ID)
	if err != nil || got.ID != d.ID || got.Status != "build_in_progress" {
		t.Errorf("GetDeploy = %+v, %v", got, err)
	}

	if v, ok, err := c.GetEnvVar(ctx, svc.ID, "NODE_ENV"); err != nil || !ok || v != "production" {
		t.Errorf("GetEnvVar(NODE_ENV) = %q, %v, %v", v, ok, err)
	}
	if _, ok, err := c.GetEnvVar(ctx, svc.ID, "MISSING"); err != nil || ok {
		t.Errorf("GetEnvVar(MISSING) = %v, %v; want unset", ok, err)
	}
	if err := c.PutEnvVar(ctx, svc.ID, "K", "v1"); err != nil {
		t.Fatal(err)
	}
	if r := rec.Last("PUT"); r.Body["value"] != "v1" || !strings.HasSuffix(r.Path, "/env-vars/K") {
		t.Errorf("put env var = %+v", r)
	}
	g, err := c.FindEnvGroup(ctx, "production")
	if err != nil || g.ID != estate.Production.ID {
		t.Fatalf("FindEnvGroup = %+v, %v", g, err)
	}
	if v, ok := g.Var("DATABASE_URL"); !ok || v != "postgres://u:p@h/db" {
		t.Errorf("group DATABASE_URL = %q, %v", v, ok)
	}
	if err := c.PutEnvGroupVar(ctx, g.ID, "DATABASE_URL", "x"); err != nil {
		t.Fatal(err)
	}
	if got := emu.EnvGroupVars(g.ID)["DATABASE_URL"]; got != "x" {
		t.Errorf("after PutEnvGroupVar: %q", got)
	}
	for _, call := range []func() error{
		func() error { return c.Suspend(ctx, svc.ID) },
		func() error { return c.Resume(ctx, svc.ID) },
		func() error { return c.Restart(ctx, svc.ID) },
	} {
		if err := call(); err != nil {
			t.Error(err)
		}
	}
}

func TestClientErrors(t *testing.T) {
	t.Parallel()
	c, emu, _, _ := testClient(t)
	ctx := context.Background()
	_, err := c.GetService(ctx, "srv-missing")
	plugintest.WantKind(t, err, sdk.KindNotFound, "render: get service srv-missing: 404 Not Found", "not found", "error id")
	err = c.Scale(ctx, "srv-missing", 1)
	plugintest.WantKind(t, err, sdk.KindNotFound, "render: scale service srv-missing")

	emu.FailNext(10, http.StatusInternalServerError)
	_, err = c.ListServices(ctx, "")
	plugintest.WantKind(t, err, sdk.KindRetryable, "render: list services", "500", "gave up after 3 attempts")
	emu.ClearFaults()

	c.api.Key = "wrong"
	_, err = c.ListServices(ctx, "")
	plugintest.WantKind(t, err, sdk.KindUnauthenticated, "401", "check the render api_key setting")

	// Refused connections are retried, then retryable.
	dead := NewClient("http://127.0.0.1:1/", "k")
	dead.api.Retries, dead.api.Delay = 1, time.Millisecond
	_, err = dead.GetService(ctx, "srv-x")
	plugintest.WantKind(t, err, sdk.KindRetryable, "render: get service srv-x", "connection refused", "gave up after 2 attempts")
}
