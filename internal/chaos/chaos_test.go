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
	targets := []string{Neon, Render}
	a := New(42, "neon-pitr", targets)
	b := New(42, "neon-pitr", []string{Render, Neon}) // order of targets does not matter
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
		{[]string{GCS}, map[string][]Kind{GCS: {BadChecksum}}},
		{[]string{DNS}, map[string][]Kind{DNS: {DNSDelay}}},
		{[]string{Chain, Render}, map[string][]Kind{Chain: {RPCRestart}, Render: nil}},
		{[]string{Neon}, map[string][]Kind{Neon: {SlowOperation}}},
		{nil, map[string][]Kind{}},
	}
	for _, tt := range tests {
		for seed := uint64(0); seed < 50; seed++ {
			p := New(seed, "rb", tt.targets)
			for _, f := range p.Faults {
				if !slices.Contains(tt.targets, f.Target) {
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
	for seed := uint64(0); seed < 300; seed++ {
		for _, f := range New(seed, "rb", []string{Neon, Render}).Faults {
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
	p := New(7, "contract-emergency", []string{Chain, Render})
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
		{[]string{"render", "neon", "http"}, []string{Neon, Render}},
		{[]string{"contract", "render", "contract"}, []string{Chain, Render}},
		{[]string{"terraform", "postgres", "gcs", "dns"}, []string{DNS, GCS}},
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
