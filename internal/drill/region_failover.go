package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// The render-region-failover drill (DR plan 4.1). Its world:
//   - a copy of fixtures/render-region, a stand-in for Alpha-Orion's
//     terraform/main.tf with only Terraform's built-in provider, applied
//     once in oregon before the incident so there is a state to change;
//   - the drill's DNS, where api.alpha-orion.com is a CNAME of the oregon
//     service, and the DNS provider: when an apply changes the record in the
//     Terraform state, the new answer shows after a propagation delay;
//   - the public side of api.alpha-orion.com (RegionEdge), which answers as
//     the service the CNAME leads to, in the region it runs in.
// The incident: the oregon region is down, so the API answers 503.

const (
	regionAPIHost = "api.alpha-orion.com"
	regionFailed  = "oregon"
	regionStandby = "frankfurt"
	// dnsPropagation is how long the DNS provider takes to publish a change.
	dnsPropagation = 2 * time.Second
	// stateWatchInterval is how often the DNS provider looks at the state.
	stateWatchInterval = 100 * time.Millisecond
)

func init() {
	register(&Scenario{
		Runbook: "render-region-failover",
		Needs:   []string{"terraform"},
		Setup:   setupRegionFailover,
		Verify:  verifyRegionFailover,
	})
}

// regionState is what the scenario remembers between setup and verify.
type regionState struct {
	dir      string // the Terraform working directory
	original []byte // main.tf before the run
	watcher  *regionDNSProvider
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
	// Before the incident: the services run in oregon.
	if err := runTerraform(ctx, dir, "init", "-input=false", "-no-color"); err != nil {
		return nil, err
	}
	if err := runTerraform(ctx, dir, "apply", "-auto-approve", "-input=false", "-no-color"); err != nil {
		return nil, err
	}
	st, err := readRegionState(dir)
	if err != nil {
		return nil, err
	}
	oregon := st.record(regionAPIHost)
	if oregon == "" || st.Outputs["region"] != regionFailed {
		return nil, fmt.Errorf("drill: the fixture's first apply gave no %s record in %s (outputs %v)", regionAPIHost, regionFailed, st.Outputs)
	}
	dns, err := w.DNS()
	if err != nil {
		return nil, err
	}
	if err := dns.Set(regionAPIHost, "CNAME", oregon); err != nil {
		return nil, err
	}
	edge, err := w.RegionEdge(regionAPIHost)
	if err != nil {
		return nil, err
	}
	edge.SetServices(st.services())
	if code, body := drillGet(ctx, edge.HealthURL()); code != http.StatusOK {
		return nil, fmt.Errorf("drill: before the incident the API should be healthy in %s, got %d %s", regionFailed, code, body)
	}
	// The DNS provider follows the state from now on.
	watcher := watchRegionState(dir, dns, edge, st)
	w.onClose(watcher.stop)

	// The incident: Render's oregon region goes down.
	incident := time.Now().UTC()
	edge.SetRegionDown(regionFailed, true)
	code, body := drillGet(ctx, edge.HealthURL())
	if code != http.StatusServiceUnavailable {
		return nil, fmt.Errorf("drill: staging the outage: the API should answer 503, got %d %s", code, body)
	}
	w.remember("region", regionState{dir: dir, original: original, watcher: watcher})
	return &Stage{
		Params: map[string]string{
			"api_host":   regionAPIHost,
			"health_url": edge.HealthURL(),
		},
		// The fixture has no Render provider; the runbook passes the key to
		// terraform all the same, as it must for the real configuration.
		Secrets: map[string]string{"RENDER_API_KEY": "drill-render-key-unused-by-the-fixture"},
		Overrides: map[string]map[string]any{
			"terraform": {"dir": dir},
			"dns":       {"resolver": dns.Addr(), "timeout": "2s"},
		},
		Incident: incident,
		Notes: []string{
			fmt.Sprintf("Terraform fixture in %s applied in %s: %s CNAME %s", dir, regionFailed, regionAPIHost, oregon),
			fmt.Sprintf("DNS server %s; the DNS provider publishes a changed record %s after the apply writes the state", dns.Addr(), dnsPropagation),
			fmt.Sprintf("incident at %s: Render region %s is down, %s answers %d", incident.Format(time.RFC3339), regionFailed, edge.HealthURL(), code),
		},
	}, nil
}

func verifyRegionFailover(ctx context.Context, w *World, _ *Stage) []Check {
	rs, _ := w.recall("region").(regionState)
	want := regionEndpoint(regionStandby)
	var out []Check

	got, err := os.ReadFile(filepath.Join(rs.dir, "main.tf"))
	expected := bytes.Replace(rs.original, []byte(`default     = "oregon"`), []byte(`default     = "frankfurt"`), 1)
	out = append(out, check("main.tf defaults region to frankfurt, the rest byte for byte", err == nil && bytes.Equal(got, expected),
		"%s", firstLineDiff(expected, got, err)))

	st, err := readRegionState(rs.dir)
	if err != nil {
		out = append(out, check("Terraform state in frankfurt", false, "%v", err))
	} else {
		regions := map[string]bool{}
		for _, r := range st.services() {
			regions[r] = true
		}
		ok := st.Outputs["region"] == regionStandby && st.Outputs["api_endpoint"] == want && len(regions) == 1 && regions[regionStandby]
		out = append(out, check("Terraform state in frankfurt", ok, "outputs region=%v api_endpoint=%v; services in %v", st.Outputs["region"], st.Outputs["api_endpoint"], sortedRegions(regions)))
	}
	drift := runTerraform(ctx, rs.dir, "plan", "-detailed-exitcode", "-input=false", "-lock=false", "-no-color")
	out = append(out, check("main.tf and the state agree", drift == nil, "terraform plan shows no changes%s", errText(drift)))

	dns, _ := w.DNS()
	records, err := dns.Lookup(ctx, regionAPIHost, "CNAME")
	ok := err == nil && len(records) == 1 && records[0] == want
	out = append(out, check("DNS answers the frankfurt endpoint", ok, "%s CNAME %v, want %s%s; %s", regionAPIHost, records, want, errText(err), rs.watcher.propagation(dns, want)))

	edge, _ := w.RegionEdge(regionAPIHost)
	code, body := drillGet(ctx, edge.HealthURL())
	out = append(out, check("the API is healthy through its public name", code == http.StatusOK && strings.Contains(body, "region="+regionStandby),
		"GET https://%s/healthz: %d %s", regionAPIHost, code, strings.TrimSpace(body)))
	return out
}

// regionEndpoint is the service hostname the fixture gives a region.
func regionEndpoint(region string) string { return "user-api-service-" + region + ".onrender.com" }

// runTerraform runs terraform in dir; its output goes into the error.
func runTerraform(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, "terraform", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("terraform %s: %v: %s", args[0], err, tailLines(out.String(), 8))
	}
	return nil
}

// regionTFState is the part of a terraform.tfstate (format 4) the drill reads.
type regionTFState struct {
	Outputs   map[string]any
	resources []map[string]any // the output of every terraform_data
}

func readRegionState(dir string) (*regionTFState, error) {
	b, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
	if err != nil {
		return nil, err
	}
	var raw struct {
		Outputs map[string]struct {
			Value any `json:"value"`
		} `json:"outputs"`
		Resources []struct {
			Type      string `json:"type"`
			Instances []struct {
				Attributes struct {
					Output struct {
						Value map[string]any `json:"value"`
					} `json:"output"`
				} `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("terraform.tfstate: %w", err)
	}
	st := &regionTFState{Outputs: map[string]any{}}
	for k, o := range raw.Outputs {
		st.Outputs[k] = o.Value
	}
	for _, r := range raw.Resources {
		if r.Type != "terraform_data" {
			continue
		}
		for _, in := range r.Instances {
			if in.Attributes.Output.Value != nil {
				st.resources = append(st.resources, in.Attributes.Output.Value)
			}
		}
	}
	return st, nil
}

// services maps the hostname of every Render service in the state to its region.
func (st *regionTFState) services() map[string]string {
	out := map[string]string{}
	for _, r := range st.resources {
		host, _ := r["hostname"].(string)
		region, _ := r["region"].(string)
		if host != "" && region != "" {
			out[host] = region
		}
	}
	return out
}

// record is the CNAME target the state gives name ("" when none).
func (st *regionTFState) record(name string) string {
	for _, r := range st.resources {
		if r["name"] == name && r["type"] == "CNAME" {
			v, _ := r["value"].(string)
			return v
		}
	}
	return ""
}

// regionDNSProvider is the DNS provider and Render as the drill sees them: it
// watches the Terraform state, runs the services the state holds, and
// publishes a changed DNS record after the propagation delay.
type regionDNSProvider struct {
	done chan struct{}
	once sync.Once

	mu        sync.Mutex
	changedAt time.Time // when the state first named a new record
	record    string
}

func watchRegionState(dir string, dns *DNS, edge *RegionEdge, initial *regionTFState) *regionDNSProvider {
	sw := &regionDNSProvider{done: make(chan struct{}), record: initial.record(regionAPIHost)}
	path := filepath.Join(dir, "terraform.tfstate")
	fi, _ := os.Stat(path)
	go func() {
		t := time.NewTicker(stateWatchInterval)
		defer t.Stop()
		for {
			select {
			case <-sw.done:
				return
			case <-t.C:
			}
			now, err := os.Stat(path)
			if err != nil || (fi != nil && now.ModTime().Equal(fi.ModTime()) && now.Size() == fi.Size()) {
				continue
			}
			st, err := readRegionState(dir)
			if err != nil {
				continue // caught mid-write: read it on the next tick
			}
			fi = now
			edge.SetServices(st.services())
			sw.mu.Lock()
			if rec := st.record(regionAPIHost); rec != "" && rec != sw.record {
				sw.record, sw.changedAt = rec, time.Now()
				dns.Publish(regionAPIHost, "CNAME", dnsPropagation, rec)
			}
			sw.mu.Unlock()
		}
	}()
	return sw
}

func (sw *regionDNSProvider) stop() error {
	sw.once.Do(func() { close(sw.done) })
	return nil
}

// propagation says when the state named the record's new value and when
// DNS began to answer it.
func (sw *regionDNSProvider) propagation(dns *DNS, value string) string {
	sw.mu.Lock()
	changed := sw.changedAt
	sw.mu.Unlock()
	if changed.IsZero() {
		return "no apply changed the record"
	}
	for _, c := range dns.Changes() {
		if len(c.Values) == 1 && c.Values[0] == value && !c.At.Before(changed) {
			return fmt.Sprintf("answered %s after the apply changed the record (%d queries in all)", c.At.Sub(changed).Round(time.Millisecond), dns.Queries())
		}
	}
	return "the apply changed the record at " + changed.Format("15:04:05.000") + "; DNS never published it"
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

func sortedRegions(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
