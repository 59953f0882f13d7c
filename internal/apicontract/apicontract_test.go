package apicontract

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/plugins/neon/neonemu"
	"github.com/alpha-orion/runbook/plugins/render/renderemu"
)

// TestContractsRecordTheirSources checks that both documents load and are
// valid OpenAPI, and that every operation says where and when it was read.
func TestContractsRecordTheirSources(t *testing.T) {
	for _, name := range Names {
		c, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Operations()) == 0 {
			t.Errorf("%s: no operations", name)
		}
		for path, item := range c.Doc.Paths.Map() {
			for method, op := range item.Operations() {
				src, _ := op.Extensions["x-source"].(string)
				if !strings.HasPrefix(src, "https://") {
					t.Errorf("%s %s %s: x-source %q is not a URL", name, method, path, src)
				}
				read, _ := op.Extensions["x-read"].(string)
				if _, err := time.Parse(time.DateOnly, read); err != nil {
					t.Errorf("%s %s %s: x-read %q is not a date: %v", name, method, path, read, err)
				}
				if op.OperationID == "" {
					t.Errorf("%s %s %s: no operationId", name, method, path)
				}
			}
		}
	}
	if _, err := Load("heroku"); err == nil || !strings.Contains(err.Error(), "neon, render") {
		t.Errorf("Load(heroku) = %v, want an error naming the contracts", err)
	}
}

// TestParseRejectsBadDocuments checks that a broken contract is an error.
func TestParseRejectsBadDocuments(t *testing.T) {
	for _, tc := range []struct{ name, doc string }{
		{"not yaml", "openapi: [3"},
		{"no paths", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\n"},
		{"bad ref", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200': {$ref: '#/components/responses/nope'}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse(tc.name, []byte(tc.doc)); err == nil {
				t.Error("Parse succeeded, want an error")
			}
		})
	}
}

// branchJSON is a branch with every field Neon's schema requires.
const branchJSON = `{"id":"br-a","project_id":"p-a","name":"main","current_state":"ready",
"state_changed_at":"2026-12-03T00:00:00Z","creation_source":"console","created_at":"2026-12-03T00:00:00Z",
"updated_at":"2026-12-03T00:00:00Z","default":true,"protected":false,"cpu_used_sec":0,"active_time_seconds":0,
"compute_time_seconds":0,"written_data_bytes":0,"data_transfer_bytes":0}`

// TestCheckFindsViolations feeds the checker exchanges that keep or break
// the contracts: each broken one must be reported, with what broke.
func TestCheckFindsViolations(t *testing.T) {
	const auth = "Bearer k"
	for _, tc := range []struct {
		name, contract, method, target, auth, reqBody string
		status                                        int
		respBody                                      string
		want                                          []string // each must be in some violation; none means valid
	}{
		{name: "valid branch list", contract: "neon", method: "GET", target: "/api/v2/projects/p-a/branches?limit=5", auth: auth,
			status: 200, respBody: `{"branches":[` + branchJSON + `],"annotations":{}}`},
		{name: "valid without base path", contract: "neon", method: "GET", target: "/projects/p-a/branches", auth: auth,
			status: 200, respBody: `{"branches":[],"annotations":{}}`},
		{name: "neon errors are its default response", contract: "neon", method: "GET", target: "/api/v2/projects/p-a/branches/br-x", auth: auth,
			status: 423, respBody: `{"code":"","message":"locked"}`},
		{name: "wrong field type", contract: "neon", method: "GET", target: "/api/v2/projects/p-a/branches", auth: auth,
			status: 200, respBody: `{"branches":[` + strings.Replace(branchJSON, `"default":true`, `"default":"yes"`, 1) + `],"annotations":{}}`,
			want: []string{"listProjectBranches response 200", "/branches/0/default"}},
		{name: "missing required field", contract: "neon", method: "GET", target: "/api/v2/projects/p-a/connection_uri?database_name=d&role_name=r", auth: auth,
			status: 200, respBody: `{"url":"postgres://x"}`,
			want: []string{"getConnectionURI response 200", `"uri" is missing`}},
		{name: "missing required query parameter", contract: "neon", method: "GET", target: "/api/v2/projects/p-a/connection_uri?database_name=d", auth: auth,
			status: 200, respBody: `{"uri":"postgres://x"}`,
			want: []string{"getConnectionURI request", "role_name"}},
		{name: "request body field of the wrong type", contract: "neon", method: "POST", target: "/api/v2/projects/p-a/branches/br-a/restore", auth: auth,
			reqBody: `{"source_branch_id":"br-a","source_timestamp":12}`, status: 200, respBody: `{"branch":` + branchJSON + `,"operations":[]}`,
			want: []string{"restoreProjectBranch request", "source_timestamp"}},
		{name: "request body missing a required field", contract: "neon", method: "POST", target: "/api/v2/projects/p-a/branches/br-a/restore", auth: auth,
			reqBody: `{"source_timestamp":"2026-12-03T00:00:00Z"}`, status: 200, respBody: `{"branch":` + branchJSON + `,"operations":[]}`,
			want: []string{"restoreProjectBranch request", "source_branch_id"}},
		{name: "no bearer token", contract: "neon", method: "GET", target: "/api/v2/projects/p-a", status: 401, respBody: `{"code":"","message":"no"}`,
			want: []string{"getProject request", "security"}},
		{name: "unknown endpoint", contract: "neon", method: "DELETE", target: "/api/v2/projects/p-a/branches/br-a", auth: auth, status: 200, respBody: `{}`,
			want: []string{"DELETE /api/v2/projects/p-a/branches/br-a: not an endpoint of the neon contract"}},
		{name: "unknown path", contract: "render", method: "GET", target: "/v1/blueprints", auth: auth, status: 200, respBody: `[]`,
			want: []string{"not an endpoint of the render contract"}},
		{name: "undeclared status", contract: "render", method: "POST", target: "/v1/services/srv-a/scale", auth: auth,
			reqBody: `{"numInstances":2}`, status: 200,
			want: []string{"scaleService response 200", "status is not supported"}},
		{name: "valid scale", contract: "render", method: "POST", target: "/v1/services/srv-a/scale", auth: auth,
			reqBody: `{"numInstances":2}`, status: 202},
		{name: "body where none is declared", contract: "render", method: "POST", target: "/v1/services/srv-a/suspend", auth: auth,
			status: 202, respBody: `{"ok":true}`, want: []string{"suspendService response 202: a body was answered"}},
		{name: "request body where none is taken", contract: "render", method: "POST", target: "/v1/services/srv-a/restart", auth: auth,
			reqBody: `{"force":true}`, status: 202, want: []string{"restartService request: a body was sent"}},
		{name: "env var without its value", contract: "render", method: "GET", target: "/v1/services/srv-a/env-vars/K", auth: auth,
			status: 200, respBody: `{"key":"K"}`, want: []string{"retrieveEnvVar response 200", `"value" is missing`}},
		{name: "deploy status outside the enum", contract: "render", method: "GET", target: "/v1/services/srv-a/deploys/dep-a", auth: auth,
			status: 200, respBody: `{"id":"dep-a","status":"done"}`, want: []string{"retrieveDeploy response 200", "/status"}},
		{name: "a time not in RFC 3339", contract: "render", method: "GET", target: "/v1/services/srv-a/deploys/dep-a", auth: auth,
			status: 200, respBody: `{"id":"dep-a","createdAt":"yesterday"}`, want: []string{"retrieveDeploy response 200", "/createdAt", "date-time"}},
		{name: "query parameter of the wrong type", contract: "render", method: "GET", target: "/v1/services?limit=many", auth: auth,
			status: 200, respBody: `[]`, want: []string{"listServices request", "limit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(tc.contract)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.reqBody))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			if tc.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			h := http.Header{}
			if tc.respBody != "" {
				h.Set("Content-Type", "application/json")
			}
			res := c.Check(context.Background(), Exchange{Request: req, RequestBody: []byte(tc.reqBody), Status: tc.status, Header: h, Body: []byte(tc.respBody)})
			var got []string
			for _, e := range res.All() {
				got = append(got, e.Error())
			}
			if len(tc.want) == 0 && len(got) > 0 {
				t.Fatalf("violations %q, want none", got)
			}
			if len(tc.want) > 0 && len(got) == 0 {
				t.Fatalf("no violation, want one with %q", tc.want)
			}
			all := strings.Join(got, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("violations:\n%s\nwant %q in them", all, w)
				}
			}
		})
	}
}

// TestCheckerHandler checks the wrapper end to end: the client gets the
// handler's answer unchanged, each exchange is counted by operation, a
// violation is kept, and Allow admits an injected status.
func TestCheckerHandler(t *testing.T) {
	c, err := Load("render")
	if err != nil {
		t.Fatal(err)
	}
	k := c.NewChecker()
	status := http.StatusAccepted
	srv := httptest.NewServer(k.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen", r.URL.Path)
		w.WriteHeader(status)
	})))
	defer srv.Close()
	post := func() *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/services/srv-a/restart", nil)
		req.Header.Set("Authorization", "Bearer k")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post(); resp.StatusCode != 202 || resp.Header.Get("X-Seen") != "/v1/services/srv-a/restart" {
		t.Errorf("answer = %d %q, want the handler's", resp.StatusCode, resp.Header.Get("X-Seen"))
	}
	if v := k.Violations(); len(v) != 0 {
		t.Errorf("violations %q, want none", v)
	}
	status = http.StatusBadGateway
	post()
	if v := k.Violations(); len(v) != 1 || !regexp.MustCompile(`restartService response 502`).MatchString(v[0]) {
		t.Errorf("violations %q, want the undeclared 502", v)
	}
	k.Allow(http.StatusBadGateway)
	post()
	if v := k.Violations(); len(v) != 1 {
		t.Errorf("violations %q, want the allowed 502 not reported", v)
	}
	if got := k.Calls()["restartService"]; got != 3 {
		t.Errorf("restartService calls = %d, want 3", got)
	}
	if ops := c.Operations(); !slices.Contains(ops, "restartService") {
		t.Errorf("Operations() = %v, want restartService in it", ops)
	}
}

// TestEmulatorsServeEveryOperation checks that each operation of a contract
// is a route of its emulator, so the contract describes what they serve.
func TestEmulatorsServeEveryOperation(t *testing.T) {
	emus := map[string]struct {
		h   http.Handler
		key string
	}{
		"neon":   {neonemu.New(neonemu.Options{}), neonemu.DefaultAPIKey},
		"render": {renderemu.New(renderemu.Options{}), renderemu.DefaultAPIKey},
	}
	for _, name := range Names {
		c, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		emu := emus[name]
		for path, item := range c.Doc.Paths.Map() {
			for method, op := range item.Operations() {
				target := c.BasePath + regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(path, "x")
				req := httptest.NewRequest(method, target, strings.NewReader("{}"))
				req.Header.Set("Authorization", "Bearer "+emu.key)
				rec := httptest.NewRecorder()
				emu.h.ServeHTTP(rec, req)
				if strings.Contains(rec.Body.String(), "no route for") {
					t.Errorf("%s emulator does not serve %s (%s %s): %d %s", name, op.OperationID, method, path, rec.Code, rec.Body)
				}
			}
		}
	}
}
