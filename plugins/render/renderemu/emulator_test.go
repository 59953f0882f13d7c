package renderemu_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/alpha-orion/runbook/internal/apicontract"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/render/renderemu"
)

// env is an emulator seeded with the Alpha-Orion estate behind an httptest server.
type env struct {
	emu  *renderemu.Emulator
	base string // ends in /v1
	ao   renderemu.AlphaOrion
}

func newEnv(t *testing.T, opts renderemu.Options) *env {
	t.Helper()
	emu := renderemu.New(opts)
	// Every answer to a request of a declared operation is checked against
	// the contract; the tests send bad requests on purpose, so those are not.
	contract := apicontract.Watch(t, "render")
	contract.AnswersOnly()
	srv := httptest.NewServer(contract.Handler(emu))
	t.Cleanup(srv.Close)
	ao, err := emu.SeedAlphaOrion("postgres://db.example/neondb")
	if err != nil {
		t.Fatal(err)
	}
	return &env{emu: emu, base: srv.URL + renderemu.BasePath, ao: ao}
}

// call sends a request with the emulator's key and returns the status and raw body.
func (e *env) call(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	return plugintest.Send(t, method, e.base+path, renderemu.DefaultAPIKey, body)
}

// decode unmarshals raw into a value of type T.
func decode[T any](t *testing.T, raw []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, raw)
	}
	return v
}

// wantRenderError checks Render's error shape: {"id", "message"}.
func wantRenderError(t *testing.T, raw []byte) {
	t.Helper()
	body := decode[map[string]any](t, raw)
	for _, k := range []string{"id", "message"} {
		if s, ok := body[k].(string); !ok || s == "" {
			t.Errorf("error body %s lacks a non-empty %q", raw, k)
		}
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, renderemu.Options{APIKey: "rnd_secret"})
	tests := []struct {
		name, key string
		want      int
	}{
		{"no key", "", 401},
		{"wrong key", "rnd_other", 401},
		{"right key", "rnd_secret", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := plugintest.Send(t, "GET", e.base+"/services", tc.key, nil)
			if status != tc.want {
				t.Fatalf("status = %d, want %d", status, tc.want)
			}
			if status != 200 {
				wantRenderError(t, raw)
			}
		})
	}
}

func TestListServices(t *testing.T) {
	t.Parallel()
	e := newEnv(t, renderemu.Options{})
	if _, err := e.emu.AddService(renderemu.ServiceSpec{Name: "eu-api", Region: "frankfurt", Suspended: true}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		query  string
		status int
		want   []string
	}{
		{"all", "", 200, []string{"user-api-service", "blockchain-monitor", "eu-api"}},
		{"by name", "name=blockchain-monitor", 200, []string{"blockchain-monitor"}},
		{"names comma separated", "name=eu-api,user-api-service", 200, []string{"user-api-service", "eu-api"}},
		{"names repeated", "name=eu-api&name=blockchain-monitor", 200, []string{"blockchain-monitor", "eu-api"}},
		{"unknown name", "name=nope", 200, []string{}},
		{"region", "region=frankfurt", 200, []string{"eu-api"}},
		{"suspended", "suspended=suspended", 200, []string{"eu-api"}},
		{"type", "type=background_worker", 200, []string{"blockchain-monitor"}},
		{"limit", "limit=2", 200, []string{"user-api-service", "blockchain-monitor"}},
		{"limit too big", "limit=101", 400, nil},
		{"bad cursor", "cursor=nope", 400, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := e.call(t, "GET", "/services?"+tc.query, nil)
			if status != tc.status {
				t.Fatalf("status = %d, want %d (%s)", status, tc.status, raw)
			}
			if status != 200 {
				wantRenderError(t, raw)
				return
			}
			items := decode[[]struct {
				Cursor  string         `json:"cursor"`
				Service map[string]any `json:"service"`
			}](t, raw)
			got := []string{}
			for _, it := range items {
				if it.Cursor == "" {
					t.Errorf("item without cursor: %v", it)
				}
				got = append(got, fmt.Sprint(it.Service["name"]))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("services = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("pages", func(t *testing.T) {
		var got []string
		cursor := ""
		for i := 0; i < 5; i++ {
			status, raw := e.call(t, "GET", "/services?limit=2&cursor="+url.QueryEscape(cursor), nil)
			if status != 200 {
				t.Fatalf("status %d %s", status, raw)
			}
			items := decode[[]struct {
				Cursor  string
				Service renderemu.Service
			}](t, raw)
			if len(items) == 0 {
				break
			}
			for _, it := range items {
				got = append(got, it.Service.Name)
			}
			cursor = items[len(items)-1].Cursor
		}
		if want := "[user-api-service blockchain-monitor eu-api]"; fmt.Sprint(got) != want {
			t.Errorf("paged = %v, want %s", got, want)
		}
	})
}

func TestGetService(t *testing.T) {
	t.Parallel()
	e := newEnv(t, renderemu.Options{})
	status, raw := e.call(t, "GET", "/services/"+e.ao.UserAPI.ID, nil)
	if status != 200 {
		t.Fatalf("status %d %s", status, raw)
	}
	s := decode[map[string]any](t, raw)
	details, _ := s["serviceDetails"].(map[string]any)
	checks := []struct {
		what string
		got  any
		want any
	}{
		{"id prefix", strings.HasPrefix(fmt.Sprint(s["id"]), "srv-"), true},
		{"name", s["name"], "user-api-service"},
		{"type", s["type"], "web_service"},
		{"suspended", s["suspended"], "not_suspended"},
		{"numInstances", details["numInstances"], 2.0},
		{"region", details["region"], "oregon"},
		{"env", details["env"], "node"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	status, raw = e.call(t, "GET", "/services/srv-nope", nil)
	if status != 404 {
		t.Fatalf("unknown service = %d", status)
	}
	wantRenderError(t, raw)
}

func TestScale(t *testing.T) {
	t.Parallel()
	e := newEnv(t, renderemu.Options{})
	tests := []struct {
		name    string
		service string
		body    any
		status  int
		want    int // instances afterwards
	}{
		{"down to one", e.ao.UserAPI.ID, map[string]any{"numInstances": 1}, 202, 1},
		{"zero: manual scaling is 1 to 100, stopping is suspend", e.ao.UserAPI.ID, map[string]any{"numInstances": 0}, 400, 1},
		{"up to three", e.ao.UserAPI.ID, map[string]any{"numInstances": 3}, 202, 3},
		{"over 100", e.ao.UserAPI.ID, map[string]any{"numInstances": 101}, 400, 3},
		{"negative", e.ao.UserAPI.ID, map[string]any{"numInstances": -1}, 400, 3},
		{"missing count", e.ao.UserAPI.ID, map[string]any{}, 400, 3},
		{"not JSON", e.ao.UserAPI.ID, "{", 400, 3},
		{"unknown service", "srv-nope", map[string]any{"numInstances": 1}, 404, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := e.call(t, "POST", "/services/"+tc.service+"/scale", tc.body)
			if status != tc.status {
				t.Fatalf("status = %d, want %d (%s)", status, tc.status, raw)
			}
			if status == 202 && len(raw) != 0 {
				t.Errorf("202 with a body: %s", raw)
			}
			if status >= 400 {
				wantRenderError(t, raw)
			}
			if got := e.emu.Instances(e.ao.UserAPI.ID); got != tc.want {
				t.Errorf("instances = %d, want %d", got, tc.want)
			}
		})
	}
	if got := fmt.Sprint(e.emu.ScaleEvents(e.ao.UserAPI.ID)); got != "[1 3]" {
		t.Errorf("ScaleEvents = %s, want [1 3]", got)
	}
	status, raw := e.call(t, "GET", "/services/"+e.ao.UserAPI.ID, nil)
	if s := decode[renderemu.Service](t, raw); status != 200 || s.ServiceDetails.NumInstances != 3 {
		t.Errorf("GET after scaling: numInstances = %d", s.ServiceDetails.NumInstances)
	}
}

func TestSuspendResumeRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, renderemu.Options{})
	id := e.ao.Monitor.ID
	steps := []struct {
		action        string
		wantSuspended string
	}{
		{"suspend", "suspended"},
		{"restart", "suspended"},
		{"resume", "not_suspended"},
		{"restart", "not_suspended"},
	}
	for _, st := range steps {
		status, raw := e.call(t, "POST", "/services/"+id+"/"+st.action, nil)
		if status != 202 || len(raw) != 0 {
			t.Fatalf("%s = %d %s, want 202 without body", st.action, status, raw)
		}
		_, raw = e.call(t, "GET", "/services/"+id, nil)
		if got := decode[renderemu.Service](t, raw).Suspended; got != st.wantSuspended {
			t.Errorf("after %s: suspended = %q, want %q", st.action, got, st.wantSuspended)
		}
	}
	if got := e.emu.Restarts(id); got != 2 {
		t.Errorf("Restarts = %d, want 2", got)
	}
	if status, raw := e.call(t, "POST", "/services/srv-nope/restart", nil); status != 404 {
		t.Errorf("restart unknown = %d", status)
	} else {
		wantRenderError(t, raw)
	}
}

func TestDeployProgress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		polls int
		fail  bool
		want  []string
	}{
		{"to live", 1, false, []string{"build_in_progress", "update_in_progress", "live", "live"}},
		{"build fails", 1, true, []string{"build_in_progress", "build_failed", "build_failed"}},
		{"two polls a step", 2, false, []string{"created", "build_in_progress", "build_in_progress", "update_in_progress", "update_in_progress", "live"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, renderemu.Options{PollsPerStep: tc.polls})
			if tc.fail {
				e.emu.FailNextDeploys(1)
			}
			id := e.ao.UserAPI.ID
			status, raw := e.call(t, "POST", "/services/"+id+"/deploys", map[string]any{"clearCache": "clear"})
			if status != 201 {
				t.Fatalf("create deploy = %d %s", status, raw)
			}
			d := decode[map[string]any](t, raw)
			if d["status"] != "created" || !strings.HasPrefix(fmt.Sprint(d["id"]), "dep-") {
				t.Errorf("new deploy = %v", d)
			}
			var seen []string
			for range tc.want {
				_, raw := e.call(t, "GET", fmt.Sprintf("/services/%s/deploys/%s", id, d["id"]), nil)
				seen = append(seen, decode[renderemu.Deploy](t, raw).Status)
			}
			if fmt.Sprint(seen) != fmt.Sprint(tc.want) {
				t.Errorf("statuses = %v, want %v", seen, tc.want)
			}
			deploys := e.emu.Deploys(id)
			if len(deploys) != 2 {
				t.Fatalf("%d deploys, want the seeded one and ours", len(deploys))
			}
			wantFirst := "live"
			if !tc.fail {
				wantFirst = "deactivated"
			}
			if deploys[0].Status != wantFirst {
				t.Errorf("seeded deploy = %q, want %q", deploys[0].Status, wantFirst)
			}
		})
	}
}

func TestDeployRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, renderemu.Options{})
	id := e.ao.UserAPI.ID
	tests := []struct {
		name   string
		path   string
		body   any
		status int
	}{
		{"no body", "/services/" + id + "/deploys", nil, 201},
		{"commit", "/services/" + id + "/deploys", map[string]any{"commitId": "abc123"}, 201},
		{"bad clearCache", "/services/" + id + "/deploys", map[string]any{"clearCache": "yes"}, 400},
		{"bad deployMode", "/services/" + id + "/deploys", map[string]any{"deployMode": "fast"}, 400},
		{"unknown service", "/services/srv-nope/deploys", nil, 404},
		{"unknown deploy", "/services/" + id + "/deploys/dep-nope", nil, 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := "POST"
			if strings.Contains(tc.path, "dep-") {
				method = "GET"
			}
			status, raw := e.call(t, method, tc.path, tc.body)
			if status != tc.status {
				t.Fatalf("status = %d, want %d (%s)", status, tc.status, raw)
			}
			if status >= 400 {
				wantRenderError(t, raw)
			}
		})
	}
	t.Run("202 without body", func(t *testing.T) {
		e.emu.AnswerNextDeploysWithoutBody(1)
		before := len(e.emu.Deploys(id))
		status, raw := e.call(t, "POST", "/services/"+id+"/deploys", nil)
		if status != 202 || len(raw) != 0 {
			t.Fatalf("= %d %s, want 202 without body", status, raw)
		}
		if got := len(e.emu.Deploys(id)); got != before+1 {
			t.Errorf("deploys %d -> %d, want one more", before, got)
		}
	})
	t.Run("list newest first", func(t *testing.T) {
		status, raw := e.call(t, "GET", "/services/"+id+"/deploys?limit=2", nil)
		if status != 200 {
			t.Fatalf("status %d", status)
		}
		items := decode[[]struct {
			Deploy renderemu.Deploy
			Cursor string
		}](t, raw)
		all := e.emu.Deploys(id)
		if len(items) != 2 || items[0].Deploy.ID != all[len(all)-1].ID {
			t.Errorf("listed %+v", items)
		}
	})
}

func TestServiceEnvVars(t *testing.T) {
	t.Parallel()
	e := newEnv(t, renderemu.Options{})
	id := e.ao.UserAPI.ID
	tests := []struct {
		name   string
		key    string
		body   any
		status int
	}{
		{"set", "DATABASE_URL", map[string]any{"value": "postgres://new"}, 200},
		{"set empty", "EMPTY", map[string]any{"value": ""}, 200},
		{"generate", "SECRET", map[string]any{"generateValue": true}, 200},
		{"neither", "X", map[string]any{}, 400},
		{"both", "X", map[string]any{"value": "a", "generateValue": true}, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := e.call(t, "PUT", "/services/"+id+"/env-vars/"+tc.key, tc.body)
			if status != tc.status {
				t.Fatalf("status = %d, want %d (%s)", status, tc.status, raw)
			}
			if status != 200 {
				wantRenderError(t, raw)
				return
			}
			v := decode[renderemu.EnvVar](t, raw)
			if v.Key != tc.key || v.Value != e.emu.EnvVars(id)[tc.key] {
				t.Errorf("answer %+v, stored %q", v, e.emu.EnvVars(id)[tc.key])
			}
		})
	}
	if got := e.emu.EnvVars(id)["DATABASE_URL"]; got != "postgres://new" {
		t.Errorf("DATABASE_URL = %q", got)
	}
	if got := e.emu.EnvVars(id)["SECRET"]; got == "" {
		t.Error("generateValue left SECRET empty")
	}
	status, raw := e.call(t, "GET", "/services/"+id+"/env-vars", nil)
	if status != 200 {
		t.Fatalf("list = %d", status)
	}
	items := decode[[]struct {
		EnvVar renderemu.EnvVar `json:"envVar"`
		Cursor string           `json:"cursor"`
	}](t, raw)
	got := map[string]string{}
	for _, it := range items {
		got[it.EnvVar.Key] = it.EnvVar.Value
	}
	if fmt.Sprint(got) != fmt.Sprint(e.emu.EnvVars(id)) {
		t.Errorf("listed %v, stored %v", got, e.emu.EnvVars(id))
	}
	if status, raw := e.call(t, "GET", "/services/"+id+"/env-vars/PORT", nil); status != 200 || decode[renderemu.EnvVar](t, raw).Value != "10000" {
		t.Errorf("GET PORT = %d %s", status, raw)
	}
	if status, raw := e.call(t, "GET", "/services/"+id+"/env-vars/NOPE", nil); status != 404 {
		t.Errorf("GET missing var = %d", status)
	} else {
		wantRenderError(t, raw)
	}
}

func TestEnvGroups(t *testing.T) {
	t.Parallel()
	e := newEnv(t, renderemu.Options{})
	status, raw := e.call(t, "GET", "/env-groups", nil)
	if status != 200 {
		t.Fatalf("list = %d", status)
	}
	groups := decode[[]map[string]any](t, raw)
	if len(groups) != 1 || groups[0]["name"] != "production" || groups[0]["envVars"] != nil {
		t.Errorf("GET /env-groups = %s (want a plain array of metadata)", raw)
	}
	if status, raw := e.call(t, "GET", "/env-groups?name=staging", nil); status != 200 || string(bytes.TrimSpace(raw)) != "[]" {
		t.Errorf("name filter = %d %s", status, raw)
	}

	gid := e.ao.Production.ID
	status, raw = e.call(t, "PUT", "/env-groups/"+gid+"/env-vars/DATABASE_URL", map[string]any{"value": "postgres://restored"})
	if status != 200 {
		t.Fatalf("PUT = %d %s", status, raw)
	}
	status, raw = e.call(t, "GET", "/env-groups/"+gid, nil)
	if status != 200 {
		t.Fatalf("GET = %d", status)
	}
	g := decode[renderemu.EnvGroup](t, raw)
	vars := map[string]string{}
	for _, v := range g.EnvVars {
		vars[v.Key] = v.Value
	}
	if vars["DATABASE_URL"] != "postgres://restored" || e.emu.EnvGroupVars(gid)["DATABASE_URL"] != "postgres://restored" {
		t.Errorf("DATABASE_URL = %q (API), %q (state)", vars["DATABASE_URL"], e.emu.EnvGroupVars(gid)["DATABASE_URL"])
	}
	links := map[string]string{}
	for _, l := range g.ServiceLinks {
		links[l.Name] = l.Type
	}
	if links["user-api-service"] != "web" || links["blockchain-monitor"] != "worker" {
		t.Errorf("serviceLinks = %+v", g.ServiceLinks)
	}
	for _, tc := range []struct{ method, path string }{
		{"GET", "/env-groups/evg-nope"},
		{"PUT", "/env-groups/evg-nope/env-vars/X"},
	} {
		status, raw := e.call(t, tc.method, tc.path, map[string]any{"value": "x"})
		if status != 404 {
			t.Errorf("%s %s = %d", tc.method, tc.path, status)
		}
		wantRenderError(t, raw)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inject func(*renderemu.Emulator)
		want   []int
	}{
		{"two 503s", func(e *renderemu.Emulator) { e.FailNext(2, 503) }, []int{503, 503, 200}},
		{"429", func(e *renderemu.Emulator) { e.FailNext(1, 429) }, []int{429, 200}},
		{"only scale", func(e *renderemu.Emulator) {
			e.InjectFault(renderemu.Fault{Status: 500, PathContains: "/scale", Times: 5})
		}, []int{200, 200}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, renderemu.Options{})
			tc.inject(e.emu)
			var got []int
			for range tc.want {
				status, raw := e.call(t, "GET", "/services", nil)
				if status != 200 {
					wantRenderError(t, raw)
				}
				got = append(got, status)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("statuses = %v, want %v", got, tc.want)
			}
			if reqs := e.emu.Requests(); len(reqs) != len(tc.want) || reqs[0].Path != "/services" {
				t.Errorf("Requests() = %+v", reqs)
			}
		})
	}
	t.Run("latency", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, renderemu.Options{})
		e.emu.SetLatency(60 * time.Millisecond)
		start := time.Now()
		e.call(t, "GET", "/services", nil)
		if d := time.Since(start); d < 60*time.Millisecond {
			t.Errorf("took %v, want at least 60ms", d)
		}
	})
}

func TestStartServesOverTCP(t *testing.T) {
	t.Parallel()
	emu := renderemu.New(renderemu.Options{})
	defer emu.Close()
	base, err := emu.Start("")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(base, "/v1") || emu.URL() != base {
		t.Errorf("base = %q, URL() = %q", base, emu.URL())
	}
	if status, raw := plugintest.Send(t, "GET", base+"/services", emu.APIKey(), nil); status != 200 || string(bytes.TrimSpace(raw)) != "[]" {
		t.Errorf("GET /services = %d %s", status, raw)
	}
	if status, raw := plugintest.Send(t, "GET", base+"/nothing", emu.APIKey(), nil); status != 404 {
		t.Errorf("unknown route = %d", status)
	} else {
		wantRenderError(t, raw)
	}
}

func TestSeedAlphaOrion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, renderemu.Options{})
	tests := []struct {
		name, typ string
		instances int
	}{
		{"user-api-service", "web_service", 2},
		{"blockchain-monitor", "background_worker", 1},
	}
	for _, tc := range tests {
		s, ok := e.emu.ServiceByName(tc.name)
		if !ok {
			t.Fatalf("no service %s", tc.name)
		}
		if s.Type != tc.typ || e.emu.Instances(s.ID) != tc.instances || s.ServiceDetails.Region != "oregon" {
			t.Errorf("%s: type %s, instances %d, region %s", tc.name, s.Type, e.emu.Instances(s.ID), s.ServiceDetails.Region)
		}
		if d := e.emu.Deploys(s.ID); len(d) != 1 || d[0].Status != "live" {
			t.Errorf("%s: deploys %+v, want one live", tc.name, d)
		}
	}
	g, ok := e.emu.EnvGroupByName("production")
	if !ok || len(g.ServiceLinks) != 2 || e.emu.EnvGroupVars(g.ID)["DATABASE_URL"] != "postgres://db.example/neondb" {
		t.Errorf("production group = %+v", g)
	}
	if _, err := e.emu.AddService(renderemu.ServiceSpec{Name: "user-api-service"}); err == nil {
		t.Error("AddService accepted a duplicate name")
	}
	if _, err := e.emu.AddEnvGroup(renderemu.EnvGroupSpec{Name: "x", ServiceIDs: []string{"srv-nope"}}); err == nil {
		t.Error("AddEnvGroup accepted an unknown service")
	}
}
