// Package chaos plans the provider faults of a game-day drill (`runbook
// drill NAME --chaos SEED`): which fault each stand-in injects, at which
// endpoint, and after how many matching requests. A plan depends only on
// the seed, the runbook's name and the providers it uses, so a seed
// reproduces a drill's faults exactly; the core prints the plan and sends it
// to the sandbox with the stage request, and the sandbox's stand-ins apply
// it (see internal/drill).
//
// Faults are counted in requests, not in wall-clock time: "the 2nd GET of an
// operation answers 429" happens at the same point of every run of the
// drill, however fast the machine is.
//
// This package links nothing but the standard library.
package chaos

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Kind names a fault.
type Kind string

// The faults a plan can hold.
const (
	// Throttle answers 429 with Retry-After in seconds.
	Throttle Kind = "429-retry-after-seconds"
	// ThrottleDate answers 429 with Retry-After as an HTTP-date.
	ThrottleDate Kind = "429-retry-after-date"
	// ThrottleBare answers 429 without Retry-After: the client backs off.
	ThrottleBare Kind = "429-no-retry-after"
	// ServerError answers a 5xx.
	ServerError Kind = "5xx"
	// Slow delays the answer by Delay.
	Slow Kind = "slow"
	// SlowOperation keeps the provider's next asynchronous operation
	// running for Times more polls (a Neon operation).
	SlowOperation Kind = "slow-operation"
	// Drop closes the connection before any answer, mid-poll.
	Drop Kind = "drop-connection"
	// DNSDelay makes a DNS change visible Delay later than usual.
	DNSDelay Kind = "dns-propagation-delay"
	// BadChecksum corrupts the bytes of an object download, so they no
	// longer match the object's CRC32C and MD5.
	BadChecksum Kind = "gcs-bad-checksum"
	// RPCRestart stops the chain's RPC endpoint for Delay on a request and
	// brings it back with the same state, as a node restart does.
	RPCRestart Kind = "rpc-node-restart"
)

// Targets: the stand-ins a fault can apply to.
const (
	Neon   = "neon"
	Render = "render"
	GCS    = "gcs"
	DNS    = "dns"
	Chain  = "chain"
)

// Fault is one fault of a plan.
type Fault struct {
	Kind Kind `json:"kind"`
	// Target is the stand-in: neon, render, gcs, dns or chain.
	Target string `json:"target"`
	// Method and Path (a part of the path) choose the requests it hits;
	// empty matches any.
	Method string `json:"method,omitempty"`
	Path   string `json:"path,omitempty"`
	// Skip is how many matching requests are served normally first.
	Skip int `json:"skip,omitempty"`
	// Times is how many matching requests (or operations) it hits.
	Times int `json:"times"`
	// Status is the HTTP status of a 429 or 5xx.
	Status int `json:"status,omitempty"`
	// Delay is the Retry-After asked for, the added latency, the extra
	// propagation delay or the outage of a restart.
	Delay time.Duration `json:"delay,omitempty"`
	// AfterEffect makes a 5xx answer a request that did take effect, as
	// a gateway timing out on a backend that handled it.
	AfterEffect bool `json:"after_effect,omitempty"`
}

// String describes the fault for the printed plan.
func (f Fault) String() string {
	where := f.Target
	if f.Method != "" || f.Path != "" {
		where += " " + strings.TrimSpace(f.Method+" …"+f.Path)
	}
	when := fmt.Sprintf("request %d", f.Skip+1)
	if f.Times > 1 {
		when = fmt.Sprintf("requests %d-%d", f.Skip+1, f.Skip+f.Times)
	}
	var what string
	switch f.Kind {
	case Throttle:
		what = fmt.Sprintf("429, Retry-After: %d (seconds)", int(f.Delay/time.Second))
	case ThrottleDate:
		what = fmt.Sprintf("429, Retry-After as an HTTP-date %s ahead", f.Delay)
	case ThrottleBare:
		what = "429 without Retry-After"
	case ServerError:
		what = fmt.Sprintf("%d", f.Status)
		if f.AfterEffect {
			what += " after the request took effect"
		}
	case Slow:
		what = fmt.Sprintf("answer delayed %s", f.Delay)
	case SlowOperation:
		what = fmt.Sprintf("the next operation stays running %d polls longer", f.Times)
		when = "operation 1"
	case Drop:
		what = "connection closed without an answer"
	case DNSDelay:
		what = fmt.Sprintf("changes visible %s later", f.Delay)
		when = "every change"
	case BadChecksum:
		what = "the bytes received do not match the object's CRC32C and MD5"
		when = fmt.Sprintf("download %d", f.Skip+1)
	case RPCRestart:
		what = fmt.Sprintf("RPC node restarts: down %s, back with the same state", f.Delay)
	default:
		what = string(f.Kind)
	}
	if where != f.Target {
		what += " [" + where + "]"
	}
	return fmt.Sprintf("%-6s %-24s %s: %s", f.Target, f.Kind, when, what)
}

// Plan is the faults of one drill.
type Plan struct {
	Seed    uint64  `json:"seed"`
	Runbook string  `json:"runbook"`
	Faults  []Fault `json:"faults"`
}

// For returns the faults aimed at target, in plan order.
func (p *Plan) For(target string) []Fault {
	if p == nil {
		return nil
	}
	var out []Fault
	for _, f := range p.Faults {
		if f.Target == target {
			out = append(out, f)
		}
	}
	return out
}

// Lines describes the plan, one fault a line.
func (p *Plan) Lines() []string {
	out := make([]string, 0, len(p.Faults))
	for _, f := range p.Faults {
		out = append(out, f.String())
	}
	return out
}

// endpoint is a kind of request a provider's plugin makes.
type endpoint struct {
	method, path string
	// poll marks a read made while waiting, where a dropped connection
	// hurts most.
	poll bool
}

// endpoints are what the plugins call, by target; paths are parts of the
// provider's API paths (docs/providers.md).
var endpoints = map[string][]endpoint{
	Neon: {
		{"GET", "/operations/", true},
		{"GET", "/branches", false},
		{"GET", "/connection_uri", false},
		{"POST", "/restore", false},
	},
	Render: {
		{"GET", "/services", true},
		{"GET", "/env-groups", false},
		{"GET", "/deploys", true},
		{"POST", "/deploys", false},
		{"POST", "/restart", false},
		{"POST", "/suspend", false},
		{"POST", "/resume", false},
		{"PUT", "/env-vars/", false},
	},
}

// Targets returns the stand-ins a runbook's plugins talk to.
func Targets(plugins []string) []string {
	var out []string
	add := func(t string) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	for _, p := range plugins {
		switch p {
		case "neon":
			add(Neon)
		case "render":
			add(Render)
		case "gcs":
			add(GCS)
		case "dns":
			add(DNS)
		case "contract":
			add(Chain)
		}
	}
	slices.Sort(out)
	return out
}

// httpKinds are the faults of an HTTP API, drawn with equal chance.
var httpKinds = []Kind{Throttle, ThrottleDate, ThrottleBare, ServerError, Slow, Drop}

// New plans the faults of runbook's drill under seed, for the stand-ins
// targets names (see Targets). The same arguments always give the same plan.
func New(seed uint64, runbook string, targets []string) Plan {
	h := fnv.New64a()
	h.Write([]byte(runbook))
	r := rand.New(rand.NewPCG(seed, h.Sum64()))
	p := Plan{Seed: seed, Runbook: runbook}
	ts := slices.Clone(targets)
	slices.Sort(ts)
	for _, t := range ts {
		switch t {
		case Neon, Render:
			p.Faults = append(p.Faults, httpFaults(r, t)...)
			if t == Neon {
				p.Faults = append(p.Faults, Fault{Kind: SlowOperation, Target: Neon, Times: 2 + r.IntN(3)})
			}
		case GCS:
			p.Faults = append(p.Faults, Fault{Kind: BadChecksum, Target: GCS, Times: 1})
		case DNS:
			p.Faults = append(p.Faults, Fault{Kind: DNSDelay, Target: DNS, Times: 1, Delay: ms(r, 100, 400)})
		case Chain:
			p.Faults = append(p.Faults, Fault{Kind: RPCRestart, Target: Chain, Times: 1, Skip: 1 + r.IntN(6), Delay: ms(r, 150, 400)})
		}
	}
	return p
}

// httpFaults draws two or three faults at distinct endpoints of target.
func httpFaults(r *rand.Rand, target string) []Fault {
	eps := slices.Clone(endpoints[target])
	r.Shuffle(len(eps), func(i, j int) { eps[i], eps[j] = eps[j], eps[i] })
	n := 2 + r.IntN(2)
	var out []Fault
	for _, e := range eps[:n] {
		k := httpKinds[r.IntN(len(httpKinds))]
		if k == Drop && e.method != "GET" {
			k = ServerError // a dropped POST is the non-idempotent case; see ServerError
		}
		f := Fault{Kind: k, Target: target, Method: e.method, Path: e.path, Skip: r.IntN(2), Times: 1}
		switch k {
		case Throttle:
			f.Delay = time.Second // the smallest Retry-After in seconds
		case ThrottleDate:
			f.Delay = time.Second
		}
		switch k {
		case Throttle, ThrottleDate, ThrottleBare:
			f.Status = 429
		case ServerError:
			f.Status = []int{500, 502, 503}[r.IntN(3)]
			f.Times = 1 + r.IntN(2)
			// Only a POST that reconciles before retrying (render.deploy
			// lists the deploys) may lose its answer after taking effect.
			f.AfterEffect = target == Render && e.method == "POST" && e.path == "/deploys" && f.Status != 500
		case Slow:
			f.Delay = ms(r, 100, 400)
		}
		out = append(out, f)
	}
	return out
}

// ms draws a duration of lo to hi milliseconds, in steps of 10 ms.
func ms(r *rand.Rand, lo, hi int) time.Duration {
	return time.Duration(lo+10*r.IntN((hi-lo)/10+1)) * time.Millisecond
}
