package chaos

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSameSeedSamePlan: a seed reproduces a drill's faults exactly, and
// another seed or another runbook gives other faults.
func TestSameSeedSamePlan(t *testing.T) {
	targets := []string{"neon.restore_branch", "render.suspend", "render.resume", "http.check"}
	a := New(42, "neon-pitr", targets)
	b := New(42, "neon-pitr", []string{"render.resume", "http.check", "render.suspend", "neon.restore_branch", "render.resume"}) // order and repeats do not matter
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed, different plans:\n%v\n%v", a.Lines(), b.Lines())
	}
	differs := 0
	for seed := uint64(1); seed <= 20; seed++ {
		if !reflect.DeepEqual(New(seed, "neon-pitr", targets).Faults, a.Faults) {
			differs++
		}
	}
	if differs < 15 {
		t.Errorf("only %d of 20 other seeds give another plan", differs)
	}
	if reflect.DeepEqual(New(42, "dump-restore", targets).Faults, a.Faults) {
		t.Error("two runbooks with the same seed get the same faults")
	}
}

// TestPlanCoversTargets: every target gets its faults, and only those.
func TestPlanCoversTargets(t *testing.T) {
	tests := []struct {
		targets []string
		want    map[string][]Kind // kinds that must appear; nil means none of the target
	}{
		{[]string{"gcs.download", "gcs.find_newest"}, map[string][]Kind{GCS: {BadChecksum}}},
		{[]string{"dns.check"}, map[string][]Kind{DNS: {DNSDelay}}},
		{[]string{"contract.call", "render.deploy"}, map[string][]Kind{Chain: {RPCRestart}, Render: nil}},
		{[]string{"neon.restore_branch"}, map[string][]Kind{Neon: {SlowOperation}}},
		{[]string{"redis.ping", "postgres.query", "gcs.find_newest"}, map[string][]Kind{}},
		{nil, map[string][]Kind{}},
	}
	for _, tt := range tests {
		targets := Targets(tt.targets)
		for seed := uint64(0); seed < 50; seed++ {
			p := New(seed, "rb", tt.targets)
			for _, f := range p.Faults {
				if !slices.Contains(targets, f.Target) {
					t.Fatalf("%v seed %d: fault for %s: %v", tt.targets, seed, f.Target, f)
				}
				if f.Times < 1 {
					t.Fatalf("seed %d: %v hits nothing", seed, f)
				}
			}
			for target, kinds := range tt.want {
				got := p.For(target)
				if len(got) == 0 {
					t.Fatalf("%v seed %d: no fault for %s", tt.targets, seed, target)
				}
				for _, k := range kinds {
					if !slices.ContainsFunc(got, func(f Fault) bool { return f.Kind == k }) {
						t.Fatalf("%v seed %d: no %s for %s", tt.targets, seed, k, target)
					}
				}
			}
		}
	}
	if len(New(1, "rb", nil).Faults) != 0 {
		t.Error("faults without targets")
	}
}

// TestHTTPFaultsAreRealistic: statuses, delays and the kinds of request
// each fault may hit, over many seeds.
func TestHTTPFaultsAreRealistic(t *testing.T) {
	seen := map[Kind]bool{}
	actions := []string{"neon.restore_branch", "render.deploy", "render.restart", "render.set_group_env"}
	for seed := uint64(0); seed < 300; seed++ {
		for _, f := range New(seed, "rb", actions).Faults {
			if !slices.ContainsFunc(actions, func(a string) bool {
				return slices.Contains(endpoints[a], endpoint{f.Method, f.Path})
			}) && f.Path != "" {
				t.Fatalf("a fault at an endpoint none of the actions calls: %+v", f)
			}
			if f.Method != "GET" && f.Skip > 0 {
				t.Fatalf("a write may come once, but the fault waits for a later one: %+v", f)
			}
			seen[f.Kind] = true
			switch f.Kind {
			case Throttle, ThrottleDate:
				if f.Status != 429 || f.Delay != time.Second {
					t.Fatalf("%+v", f)
				}
			case ThrottleBare:
				if f.Status != 429 || f.Delay != 0 {
					t.Fatalf("%+v", f)
				}
			case ServerError:
				if f.Status < 500 || f.Status > 599 {
					t.Fatalf("%+v", f)
				}
				if f.AfterEffect && !(f.Method == "POST" && f.Path == "/deploys") {
					t.Fatalf("a 5xx after the effect on a call that does not reconcile: %+v", f)
				}
			case Drop:
				if f.Method != "GET" {
					t.Fatalf("a dropped %s: a blind retry could repeat it: %+v", f.Method, f)
				}
			case Slow, DNSDelay, RPCRestart:
				if f.Delay < 100*time.Millisecond || f.Delay > 400*time.Millisecond {
					t.Fatalf("delay outside the drill's few hundred ms: %+v", f)
				}
			}
		}
	}
	for _, k := range httpKinds {
		if !seen[k] {
			t.Errorf("300 seeds never drew %s", k)
		}
	}
}

// TestPlanJSONRoundTrip: the plan crosses the sandbox protocol unchanged.
func TestPlanJSONRoundTrip(t *testing.T) {
	p := New(7, "contract-emergency", []string{"contract.call", "render.restart"})
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var q Plan
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Fatalf("%+v\n%+v", p, q)
	}
}

func TestTargets(t *testing.T) {
	tests := []struct {
		plugins []string
		want    []string
	}{
		{[]string{"render.deploy", "neon.restore_branch", "http.check"}, []string{Neon, Render}},
		{[]string{"contract.call", "render.restart", "contract.deploy"}, []string{Chain, Render}},
		{[]string{"terraform.apply", "postgres.query", "gcs.download", "dns.check"}, []string{DNS, GCS}},
		{[]string{"gcs.find_newest"}, nil},
		{nil, nil},
	}
	for _, tt := range tests {
		if got := Targets(tt.plugins); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Targets(%v) = %v, want %v", tt.plugins, got, tt.want)
		}
	}
}

// TestLines names each fault's target, kind, when and where.
func TestLines(t *testing.T) {
	p := Plan{Faults: []Fault{
		{Kind: Throttle, Target: Neon, Method: "GET", Path: "/operations/", Skip: 1, Times: 1, Status: 429, Delay: time.Second},
		{Kind: ServerError, Target: Render, Method: "POST", Path: "/deploys", Times: 2, Status: 502, AfterEffect: true},
		{Kind: RPCRestart, Target: Chain, Skip: 3, Times: 1, Delay: 200 * time.Millisecond},
	}}
	want := []string{
		"neon   429-retry-after-seconds  request 2: 429, Retry-After: 1 (seconds) [neon GET …/operations/]",
		"render 5xx                      requests 1-2: 502 after the request took effect [render POST …/deploys]",
		"chain  rpc-node-restart         request 4: RPC node restarts: down 200ms, back with the same state",
	}
	if got := p.Lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
