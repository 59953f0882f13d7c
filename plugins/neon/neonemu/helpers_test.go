package neonemu_test

import (
	"context"
	"encoding/json"
	"github.com/alpha-orion/runbook/internal/apicontract"
	"net/http/httptest"
	"testing"

	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/neon/neonemu"
)

// env is an emulator behind an httptest server with one seeded project.
type env struct {
	emu     *neonemu.Emulator
	base    string // ends in /api/v2
	project neonemu.Project
	main    neonemu.Branch
}

// newEnv starts an emulator with opts and a seeded project.
func newEnv(t *testing.T, opts neonemu.Options, spec neonemu.ProjectSpec) *env {
	t.Helper()
	emu := neonemu.New(opts)
	// Every answer to a request of a declared operation is checked against
	// the contract; the tests send bad requests on purpose, so those are not.
	contract := apicontract.Watch(t, "neon")
	contract.AnswersOnly()
	srv := httptest.NewServer(contract.Handler(emu))
	t.Cleanup(func() {
		srv.Close()
		if err := emu.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	p, b, err := emu.AddProject(context.Background(), spec)
	if err != nil {
		t.Fatalf("AddProject: %v", err)
	}
	return &env{emu: emu, base: srv.URL + neonemu.BasePath, project: p, main: b}
}

// call sends a request with the emulator's key and decodes the JSON answer.
func (e *env) call(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	return callWithKey(t, method, e.base+path, neonemu.DefaultAPIKey, body)
}

// callWithKey sends a request with a bearer key ("" for none) and decodes the JSON answer.
func callWithKey(t *testing.T, method, url, key string, body any) (int, map[string]any) {
	t.Helper()
	status, raw := plugintest.Send(t, method, url, key, body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %v\n%s", method, url, err, raw)
		}
	}
	return status, out
}

// wantNeonError checks Neon's error shape: {"code", "message", "request_id"}.
func wantNeonError(t *testing.T, body map[string]any) {
	t.Helper()
	for _, k := range []string{"code", "message", "request_id"} {
		if _, ok := body[k].(string); !ok {
			t.Errorf("error body %v lacks string %q", body, k)
		}
	}
	if body["message"] == "" {
		t.Errorf("error body %v has an empty message", body)
	}
}

// obj returns body[key] as an object.
func obj(t *testing.T, body map[string]any, key string) map[string]any {
	t.Helper()
	m, ok := body[key].(map[string]any)
	if !ok {
		t.Fatalf("%q is not an object in %v", key, body)
	}
	return m
}

// list returns body[key] as a list of objects.
func list(t *testing.T, body map[string]any, key string) []map[string]any {
	t.Helper()
	raw, ok := body[key].([]any)
	if !ok {
		t.Fatalf("%q is not a list in %v", key, body)
	}
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i] = v.(map[string]any)
	}
	return out
}
