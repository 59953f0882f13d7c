package renderemu_test

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/alpha-orion/runbook/plugins/render/renderemu"
)

// created is the 201 answer of POST /services.
type created struct {
	Service  renderemu.Service `json:"service"`
	DeployID string            `json:"deployId"`
}

func TestCreateServiceInRegion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, renderemu.Options{OwnerID: "tea-owner"})
	body := func(name, region string) map[string]any {
		return map[string]any{"type": "web_service", "name": name, "ownerId": "tea-owner",
			"serviceDetails": map[string]any{"region": region, "plan": "starter", "runtime": "node", "numInstances": 2}}
	}
	status, raw := e.call(t, "POST", "/services", body("user-api-service-frankfurt", "frankfurt"))
	if status != http.StatusCreated {
		t.Fatalf("POST /services: %d %s", status, raw)
	}
	c := decode[created](t, raw)
	s := c.Service
	host := regexp.MustCompile(`^https://user-api-service-frankfurt-[a-z0-9]{4}\.onrender\.com$`)
	if s.ID == e.ao.UserAPI.ID || s.ServiceDetails.Region != "frankfurt" || s.ServiceDetails.NumInstances != 2 ||
		!host.MatchString(s.ServiceDetails.URL) || c.DeployID == "" {
		t.Errorf("created %+v (deploy %q): want a new ID, frankfurt, 2 instances, a suffixed onrender.com host", s, c.DeployID)
	}
	if got, _ := e.emu.Service(s.ID); got.ServiceDetails.URL != s.ServiceDetails.URL {
		t.Errorf("GET after create: %+v", got)
	}

	bad := []struct {
		name   string
		body   map[string]any
		status int
	}{
		{"same name", body("user-api-service-frankfurt", "frankfurt"), http.StatusConflict},
		{"unknown region", body("x", "mars"), http.StatusBadRequest},
		{"no owner", map[string]any{"type": "web_service", "name": "y"}, http.StatusBadRequest},
		{"another owner", map[string]any{"type": "web_service", "name": "y", "ownerId": "tea-other"}, http.StatusForbidden},
		{"bad type", map[string]any{"type": "cron", "name": "y", "ownerId": "tea-owner"}, http.StatusBadRequest},
	}
	for _, tc := range bad {
		status, raw := e.call(t, "POST", "/services", tc.body)
		if status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, status, raw, tc.status)
			continue
		}
		wantRenderError(t, raw)
	}
}

func TestCustomDomains(t *testing.T) {
	t.Parallel()
	e := newEnv(t, renderemu.Options{})
	api, mon := e.ao.UserAPI.ID, e.ao.Monitor.ID
	steps := []struct {
		method, path string
		body         any
		status       int
	}{
		{"POST", "/services/" + api + "/custom-domains", map[string]string{"name": "api.alpha-orion.com"}, http.StatusCreated},
		{"POST", "/services/" + api + "/custom-domains", map[string]string{"name": "api.alpha-orion.com"}, http.StatusConflict},
		{"POST", "/services/" + api + "/custom-domains", map[string]string{"name": "not a name"}, http.StatusBadRequest},
		{"POST", "/services/" + mon + "/custom-domains", map[string]string{"name": "mon.alpha-orion.com"}, http.StatusBadRequest},
		{"GET", "/services/" + api + "/custom-domains?name=api.alpha-orion.com", nil, http.StatusOK},
		{"DELETE", "/services/" + api + "/custom-domains/api.alpha-orion.com", nil, http.StatusNoContent},
		{"DELETE", "/services/" + api + "/custom-domains/api.alpha-orion.com", nil, http.StatusNotFound},
	}
	for i, s := range steps {
		status, raw := e.call(t, s.method, s.path, s.body)
		if status != s.status {
			t.Fatalf("step %d %s %s: %d %s, want %d", i+1, s.method, s.path, status, raw, s.status)
		}
		if s.method == "GET" {
			list := decode[[]struct {
				CustomDomain renderemu.CustomDomain `json:"customDomain"`
				Cursor       string                 `json:"cursor"`
			}](t, raw)
			if len(list) != 1 || list[0].CustomDomain.Name != "api.alpha-orion.com" || list[0].CustomDomain.Server.ID != api ||
				list[0].CustomDomain.DomainType != "subdomain" || list[0].CustomDomain.PublicSuffix != "alpha-orion.com" || list[0].Cursor == "" {
				t.Errorf("list: %s", raw)
			}
		}
	}
}

func TestRegionOutage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, renderemu.Options{OwnerID: "tea-owner"})
	api := e.ao.UserAPI.ID // seeded in oregon
	if status, raw := e.call(t, "POST", "/services/"+api+"/custom-domains", map[string]string{"name": "api.alpha-orion.com"}); status != http.StatusCreated {
		t.Fatalf("add the custom domain before the outage: %d %s", status, raw)
	}
	e.emu.SetRegionDown("oregon", true)
	calls := []struct {
		method, path string
		body         any
		status       int
	}{
		{"GET", "/services/" + api, nil, http.StatusServiceUnavailable},
		{"DELETE", "/services/" + api, nil, http.StatusServiceUnavailable},
		{"DELETE", "/services/" + api + "/custom-domains/api.alpha-orion.com", nil, http.StatusServiceUnavailable},
		{"POST", "/services/" + api + "/scale", map[string]int{"numInstances": 3}, http.StatusServiceUnavailable},
		{"GET", "/services?name=user-api-service", nil, http.StatusServiceUnavailable},
		{"GET", "/services", nil, http.StatusServiceUnavailable},
		{"POST", "/services", map[string]any{"type": "web_service", "name": "n", "ownerId": "tea-owner"}, http.StatusServiceUnavailable},
		{"GET", "/services?region=frankfurt", nil, http.StatusOK},
		{"POST", "/services", map[string]any{"type": "web_service", "name": "n", "ownerId": "tea-owner",
			"serviceDetails": map[string]string{"region": "frankfurt"}}, http.StatusCreated},
	}
	for _, c := range calls {
		status, raw := e.call(t, c.method, c.path, c.body)
		if status != c.status {
			t.Errorf("%s %s during the oregon outage: %d %s, want %d", c.method, c.path, status, raw, c.status)
		}
		if status == http.StatusServiceUnavailable {
			wantRenderError(t, raw)
		}
	}
	e.emu.SetRegionDown("oregon", false)
	if status, raw := e.call(t, "GET", "/services/"+api, nil); status != http.StatusOK {
		t.Errorf("after the outage: %d %s", status, raw)
	}
}

func TestRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t, renderemu.Options{})
	api := e.ao.UserAPI
	host := "user-api-service.onrender.com"
	if _, _, ok := e.emu.Route("api.alpha-orion.com", host); ok {
		t.Error("routed a name no service holds as a custom domain")
	}
	if status, raw := e.call(t, "POST", "/services/"+api.ID+"/custom-domains", map[string]string{"name": "api.alpha-orion.com"}); status != http.StatusCreated {
		t.Fatalf("add the custom domain: %d %s", status, raw)
	}
	tests := []struct {
		name, host, target string
		down, ok           bool
	}{
		{"held, up", "api.alpha-orion.com", host, false, true},
		{"held, trailing dots", "api.alpha-orion.com.", host + ".", false, true},
		{"another host", "api.alpha-orion.com", "other.onrender.com", false, false},
		{"another name", "www.alpha-orion.com", host, false, false},
	}
	for _, tc := range tests {
		s, down, ok := e.emu.Route(tc.host, tc.target)
		if ok != tc.ok || down != tc.down || (ok && s.ID != api.ID) {
			t.Errorf("%s: Route = %s, down %v, ok %v", tc.name, s.ID, down, ok)
		}
	}
	e.emu.SetRegionDown("oregon", true)
	if _, down, ok := e.emu.Route("api.alpha-orion.com", host); !ok || !down {
		t.Errorf("during the outage: down %v, ok %v", down, ok)
	}
}
