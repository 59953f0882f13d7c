package drill

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/plugins/render/renderemu"
)

// TestRegionEdge: the public name answers only when DNS leads to a
// service's host, that service holds the name as a custom domain, and its
// region is up.
func TestRegionEdge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, err := NewWorld()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	r, err := w.Render()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := r.AddService(renderemu.ServiceSpec{Name: "api-oregon", Region: "oregon"})
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(svc.ServiceDetails.URL, "https://")
	dns, err := w.DNS()
	if err != nil {
		t.Fatal(err)
	}
	edge, err := w.RegionEdge("api.example.com")
	if err != nil {
		t.Fatal(err)
	}
	addDomain := func() {
		if code, body := drillPostBearer(ctx, r.URL()+"/services/"+svc.ID+"/custom-domains", r.APIKey(), `{"name":"api.example.com"}`); code != http.StatusCreated {
			t.Fatalf("add custom domain: %d %s", code, body)
		}
	}
	setCNAME := func(target string) func() {
		return func() {
			if err := dns.Set("api.example.com", "CNAME", target); err != nil {
				t.Fatal(err)
			}
		}
	}
	steps := []struct {
		name   string
		before func()
		status int
		body   string
	}{
		{"no record", func() {}, http.StatusBadGateway, "does not resolve"},
		{"a record to a host nobody runs", setCNAME("elsewhere.onrender.com"), http.StatusNotFound, "no service at elsewhere.onrender.com"},
		{"the service's host, no custom domain", setCNAME(host), http.StatusNotFound, "holds api.example.com"},
		{"with the custom domain", addDomain, http.StatusOK, "service=" + svc.ID + " region=oregon"},
		{"its region down", func() { r.SetRegionDown("oregon", true) }, http.StatusServiceUnavailable, "Render region oregon is down"},
	}
	for _, s := range steps {
		s.before()
		code, body := drillGet(ctx, edge.HealthURL())
		if code != s.status || !strings.Contains(body, s.body) {
			t.Errorf("%s: %d %q, want %d and %q", s.name, code, body, s.status, s.body)
		}
	}
}

// drillPostBearer sends a JSON POST with a bearer token and returns the status and body.
func drillPostBearer(ctx context.Context, url, bearer, body string) (int, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
