package drill

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/plugins/render/renderemu"
)

// The render-region-failover drill (DR plan 4.1). Its world:
//   - the Render API (renderemu), where the fixture's first apply created
//     user-api-service-oregon and blockchain-monitor-oregon and the custom
//     domain api.alpha-orion.com on the API service;
//   - the DNS provider's API (DNSProvider), where the same apply made
//     api.alpha-orion.com a CNAME of the oregon service's onrender.com host,
//     published to the drill's DNS server after a propagation delay;
//   - a copy of fixtures/render-region (main.tf), whose resources are those
//     API objects, created and destroyed through the APIs by local-exec;
//   - the public side of api.alpha-orion.com (RegionEdge): DNS, then Render's
//     routing by custom domain.
// The incident: Render's oregon region is down: its services answer 503 to
// users, and every Render API call that touches them answers 503.

const (
	regionAPIHost = "api.alpha-orion.com"
	regionFailed  = "oregon"
	regionStandby = "frankfurt"
	// regionZoneID is the DNS provider's ID of the zone alpha-orion.com.
	regionZoneID = "7c5dae5552338874e5053f2534d2767a"
	// dnsPropagation is how long the DNS provider takes to publish a change.
	dnsPropagation = 2 * time.Second
)

func init() {
	register(&Scenario{
		Runbook: "render-region-failover",
		Needs:   []string{"terraform", "curl", "jq"},
		Setup:   setupRegionFailover,
		Verify:  verifyRegionFailover,
	})
}

// regionState is what the scenario remembers between setup and verify.
type regionState struct {
	dir      string            // the Terraform working directory
	original []byte            // main.tf before the run
	env      map[string]string // terraform's environment: variables and keys
	before   string            // the API's host DNS gave users before the incident
}

func setupRegionFailover(ctx context.Context, w *World) (*Stage, error) {
	dir, err := w.TerraformFixture("render-region")
	if err != nil {
		return nil, err
	}
	original, err := os.ReadFile(filepath.Join(dir, "main.tf"))
	if err != nil {
		return nil, err
	}
	render, err := w.Render()
	if err != nil {
		return nil, err
	}
	dnsToken := "drill-dns-" + rand.Text()
	provider, err := w.DNSProvider(regionZoneID, dnsToken, dnsPropagation)
	if err != nil {
		return nil, err
	}
	vars := map[string]any{
		"TF_VAR_render_api_url":  render.URL(),
		"TF_VAR_render_owner_id": render.OwnerID(),
		"TF_VAR_dns_api_url":     provider.URL(),
		"TF_VAR_dns_zone_id":     provider.Zone(),
	}
	secrets := map[string]string{"RENDER_API_KEY": render.APIKey(), "CLOUDFLARE_API_TOKEN": dnsToken}
	env := map[string]string{}
	for k, v := range vars {
		env[k] = fmt.Sprint(v)
	}
	for k, v := range secrets {
		env[k] = v
	}

	// Before the incident: main.tf applied in oregon, through the APIs.
	if err := runTerraform(ctx, dir, env, "init", "-input=false", "-no-color"); err != nil {
		return nil, err
	}
	if err := runTerraform(ctx, dir, env, "apply", "-auto-approve", "-input=false", "-no-color"); err != nil {
		return nil, err
	}
	api, err := renderService(ctx, render.URL(), render.APIKey(), "user-api-service-"+regionFailed)
	if err != nil {
		return nil, fmt.Errorf("drill: the fixture's first apply: %w", err)
	}
	oregonHost := strings.TrimPrefix(api.ServiceDetails.URL, "https://")
	dns, err := w.DNS()
	if err != nil {
		return nil, err
	}
	if err := waitForCNAME(ctx, dns, regionAPIHost, oregonHost, 5*dnsPropagation); err != nil {
		return nil, err
	}
	edge, err := w.RegionEdge(regionAPIHost)
	if err != nil {
		return nil, err
	}
	if code, body := drillGet(ctx, edge.HealthURL()); code != http.StatusOK || !strings.Contains(body, "service="+api.ID) {
		return nil, fmt.Errorf("drill: before the incident the API should be healthy on %s in %s, got %d %s", api.ID, regionFailed, code, body)
	}

	// The incident: Render's oregon region goes down.
	incident := time.Now().UTC()
	render.SetRegionDown(regionFailed, true)
	code, body := drillGet(ctx, edge.HealthURL())
	if code != http.StatusServiceUnavailable {
		return nil, fmt.Errorf("drill: staging the outage: the API should answer 503, got %d %s", code, body)
	}
	w.remember("region", regionState{dir: dir, original: original, env: env, before: oregonHost})
	return &Stage{
		Params: map[string]string{
			"api_host":   regionAPIHost,
			"health_url": edge.HealthURL(),
		},
		Secrets: secrets,
		Overrides: map[string]map[string]any{
			"terraform": {"dir": dir, "env": vars},
			"dns":       {"resolver": dns.Addr(), "timeout": "2s"},
			"render":    {"base_url": render.URL(), "retry_delay": "50ms"},
		},
		Incident: incident,
		Notes: []string{
			fmt.Sprintf("Terraform fixture in %s applied in %s through the Render and DNS provider APIs: %s is %s at %s", dir, regionFailed, api.Name, api.ID, oregonHost),
			fmt.Sprintf("DNS server %s; the DNS provider's API at %s publishes a change after %s", dns.Addr(), provider.URL(), dnsPropagation),
			fmt.Sprintf("incident at %s: Render region %s is down: %s answers %d and every Render API call touching %s answers 503", incident.Format(time.RFC3339), regionFailed, edge.HealthURL(), code, regionFailed),
		},
	}, nil
}

func verifyRegionFailover(ctx context.Context, w *World, _ *Stage) []Check {
	rs, _ := w.recall("region").(regionState)
	render, _ := w.Render()
	var out []Check

	got, err := os.ReadFile(filepath.Join(rs.dir, "main.tf"))
	expected := bytes.Replace(rs.original, []byte(`default     = "oregon"`), []byte(`default     = "frankfurt"`), 1)
	out = append(out, check("main.tf defaults region to frankfurt, the rest byte for byte", err == nil && bytes.Equal(got, expected),
		"%s", firstLineDiff(expected, got, err)))
	out = append(out, checkRegionState(rs.dir))
	drift := runTerraform(ctx, rs.dir, rs.env, "plan", "-detailed-exitcode", "-input=false", "-lock=false", "-no-color")
	out = append(out, check("main.tf and the state agree", drift == nil, "terraform plan shows no changes%s", errText(drift)))

	// Render's API, as a user reads it: the frankfurt services, the custom domain.
	api, apiOK, services := regionServices(ctx, render)
	out = append(out, check("Render runs both services in frankfurt (Render API)", apiOK, "%s", services))
	domains, err := renderCustomDomains(ctx, render, api.ID)
	out = append(out, check("api.alpha-orion.com is a custom domain of the frankfurt API service (Render API)",
		err == nil && apiOK && len(domains) == 1 && domains[0] == regionAPIHost,
		"GET /services/%s/custom-domains?name=%s: %v%s", api.ID, regionAPIHost, domains, errText(err)))

	// DNS through a resolver, and the API through its public name.
	want := strings.TrimPrefix(api.ServiceDetails.URL, "https://")
	dns, _ := w.DNS()
	records, err := dns.Lookup(ctx, regionAPIHost, "CNAME")
	ok := err == nil && apiOK && len(records) == 1 && records[0] == want
	out = append(out, check("DNS answers the frankfurt service's host", ok, "%s CNAME %v, want %q (the host Render's API gives)%s; %s",
		regionAPIHost, records, want, errText(err), dnsChangeText(dns, want)))
	edge, _ := w.RegionEdge(regionAPIHost)
	code, body := drillGet(ctx, edge.HealthURL())
	out = append(out, check("the API is healthy through its public name, on the frankfurt service",
		apiOK && code == http.StatusOK && strings.Contains(body, "service="+api.ID+" region="+regionStandby),
		"GET https://%s/healthz: %d %s", regionAPIHost, code, strings.TrimSpace(body)))
	return out
}

// checkRegionState reads the Terraform state: every Render object it holds
// is in frankfurt (the oregon ones were forgotten, not destroyed).
func checkRegionState(dir string) Check {
	res, err := TerraformState(dir)
	if err != nil {
		return check("Terraform state in frankfurt", false, "%v", err)
	}
	var where []string
	services, ok := 0, len(res) > 0
	for _, r := range res {
		region, _ := r.Input("region").(string)
		where = append(where, fmt.Sprintf("%s %v in %s", r.Address, r.Input("name"), region))
		ok = ok && region == regionStandby
		if r.Address == "terraform_data.service" {
			services++
		}
	}
	sort.Strings(where)
	return check("Terraform state in frankfurt", ok && services == 2, "%s", strings.Join(where, "; "))
}

// regionServices lists the frankfurt services through Render's API and
// returns the API service, whether both run there, and what it saw.
func regionServices(ctx context.Context, r *renderemu.Emulator) (api renderemu.Service, ok bool, seen string) {
	code, body := drillGetBearer(ctx, r.URL()+"/services?region="+regionStandby, r.APIKey())
	if code != http.StatusOK {
		return api, false, fmt.Sprintf("GET /services?region=%s: %d %s", regionStandby, code, body)
	}
	var list []struct {
		Service renderemu.Service `json:"service"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		return api, false, err.Error()
	}
	var names []string
	found := map[string]bool{}
	for _, x := range list {
		s := x.Service
		names = append(names, fmt.Sprintf("%s (%s, %s, %s)", s.Name, s.ID, s.ServiceDetails.Region, s.Suspended))
		if s.ServiceDetails.Region == regionStandby && s.Suspended == renderemu.NotSuspended {
			found[s.Name] = true
			if s.Name == "user-api-service-"+regionStandby {
				api = s
			}
		}
	}
	ok = found["user-api-service-"+regionStandby] && found["blockchain-monitor-"+regionStandby] && api.ServiceDetails.URL != ""
	return api, ok, "GET /services?region=frankfurt: " + strings.Join(append(names, ""), "; ")
}

// renderCustomDomains lists a service's custom domains named api.alpha-orion.com through Render's API.
func renderCustomDomains(ctx context.Context, r *renderemu.Emulator, serviceID string) ([]string, error) {
	if serviceID == "" {
		return nil, fmt.Errorf("no frankfurt API service")
	}
	code, body := drillGetBearer(ctx, r.URL()+"/services/"+url.PathEscape(serviceID)+"/custom-domains?name="+url.QueryEscape(regionAPIHost), r.APIKey())
	if code != http.StatusOK {
		return nil, fmt.Errorf("%d %s", code, body)
	}
	var list []struct {
		CustomDomain renderemu.CustomDomain `json:"customDomain"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		return nil, err
	}
	var out []string
	for _, d := range list {
		out = append(out, d.CustomDomain.Name)
	}
	return out, nil
}

// waitForCNAME polls the drill's DNS until name is a CNAME of want.
func waitForCNAME(ctx context.Context, dns *DNS, name, want string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		got, err := dns.Lookup(ctx, name, "CNAME")
		if err == nil && len(got) == 1 && got[0] == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("drill: %s never became a CNAME of %s (last answer %v, %v)", name, want, got, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// dnsChangeText says when DNS began to answer value, after the DNS provider was asked.
func dnsChangeText(dns *DNS, value string) string {
	for _, c := range dns.Changes() {
		if len(c.Values) == 1 && c.Values[0] == value {
			return fmt.Sprintf("published at %s (%d queries in all)", c.At.Format("15:04:05.000"), dns.Queries())
		}
	}
	return "the DNS provider never published it"
}

// runTerraform runs terraform in dir with env added to the environment; its
// output goes into the error.
func runTerraform(ctx context.Context, dir string, env map[string]string, args ...string) error {
	cmd := exec.CommandContext(ctx, "terraform", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("terraform %s: %v: %s", args[0], err, tailLines(out.String(), 8))
	}
	return nil
}

// firstLineDiff describes how got differs from want, by first differing line.
func firstLineDiff(want, got []byte, err error) string {
	if err != nil {
		return err.Error()
	}
	if bytes.Equal(want, got) {
		return `variable "region" { default = "frankfurt" }, no other byte changed`
	}
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d is %q, want %q", i+1, g, w)
		}
	}
	return "differs"
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
