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
	// empty matches any. For the chain, Path is a JSON-RPC method.
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
	// a gateway timing out on a backend that handled it; for an RPC
	// restart, the node handles the request it then drops unanswered.
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
		if f.Path != "" {
			when = fmt.Sprintf("%s %d", f.Path, f.Skip+1)
			where = f.Target
		}
		what = fmt.Sprintf("RPC node restarts: down %s, back with the same state", f.Delay)
		if f.AfterEffect {
			what = fmt.Sprintf("RPC node handles the request, restarts before answering: down %s, back with the same state", f.Delay)
		}
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
type endpoint struct{ method, path string }

// endpoints are the requests each action makes, by "plugin.action"; paths
// are parts of the provider's API paths (docs/providers.md). An action not
// listed makes no request a fault here can hit.
var endpoints = map[string][]endpoint{
	"neon.restore_branch":  {{"GET", "/branches"}, {"POST", "/restore"}, {"GET", "/operations/"}, {"GET", "/connection_uri"}},
	"neon.get_branch":      {{"GET", "/branches"}},
	"neon.list_branches":   {{"GET", "/branches"}},
	"neon.wait_operations": {{"GET", "/operations"}},
	"neon.connection_uri":  {{"GET", "/connection_uri"}},
	"render.deploy":        {{"GET", "/services"}, {"POST", "/deploys"}, {"GET", "/deploys"}},
	"render.restart":       {{"GET", "/services"}, {"POST", "/restart"}},
	"render.suspend":       {{"GET", "/services"}, {"POST", "/suspend"}},
	"render.resume":        {{"GET", "/services"}, {"POST", "/resume"}},
	"render.scale":         {{"GET", "/services"}, {"POST", "/scale"}},
	"render.get_service":   {{"GET", "/services"}},
	"render.set_group_env": {{"GET", "/env-groups"}, {"PUT", "/env-vars/"}},
}

// targetOf is the stand-in an action's plugin talks to, or "".
func targetOf(action string) string {
	plugin, _, _ := strings.Cut(action, ".")
	switch plugin {
	case "neon":
		return Neon
	case "render":
		return Render
	case "gcs":
		if action == "gcs.download" {
			return GCS
		}
	case "dns":
		return DNS
	case "contract":
		return Chain
	}
	return ""
}

// Targets returns the stand-ins the actions (as "plugin.action") talk to,
// sorted.
func Targets(actions []string) []string {
	var out []string
	for _, a := range actions {
		if t := targetOf(a); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// rpcMethods are what an RPC restart waits for: any request, a
// transaction being sent, or a receipt being polled.
var rpcMethods = []string{"", "eth_sendRawTransaction", "eth_getTransactionReceipt"}

// httpKinds are the faults of an HTTP API, drawn with equal chance.
var httpKinds = []Kind{Throttle, ThrottleDate, ThrottleBare, ServerError, Slow, Drop}

// New plans the faults of runbook's drill under seed, for the actions its
// steps use (as "plugin.action", in any order, repeats allowed). The same
// arguments always give the same plan.
func New(seed uint64, runbook string, actions []string) Plan {
	h := fnv.New64a()
	h.Write([]byte(runbook))
	r := rand.New(rand.NewPCG(seed, h.Sum64()))
	p := Plan{Seed: seed, Runbook: runbook}
	for _, t := range Targets(actions) {
		switch t {
		case Neon, Render:
			p.Faults = append(p.Faults, httpFaults(r, t, actionEndpoints(actions, t))...)
			if t == Neon && slices.Contains(actions, "neon.restore_branch") {
				p.Faults = append(p.Faults, Fault{Kind: SlowOperation, Target: Neon, Times: 2 + r.IntN(3)})
			}
		case GCS:
			p.Faults = append(p.Faults, Fault{Kind: BadChecksum, Target: GCS, Times: 1})
		case DNS:
			p.Faults = append(p.Faults, Fault{Kind: DNSDelay, Target: DNS, Times: 1, Delay: ms(r, 100, 400)})
		case Chain:
			// Which JSON-RPC method the restart waits for, and whether the
			// node handles that request first, are drawn from a stream of
			// their own, so adding them moved no other fault.
			r2 := rand.New(rand.NewPCG(seed, h.Sum64()+1))
			after := r2.IntN(2) == 0
			f := Fault{Kind: RPCRestart, Target: Chain, Times: 1, Skip: 1 + r.IntN(6), Delay: ms(r, 150, 400), AfterEffect: after}
			if m := rpcMethods[r2.IntN(len(rpcMethods))]; m != "" {
				f.Method, f.Skip = "POST", f.Skip%3 // a runbook sends a few transactions
				f.Path = m
			}
			p.Faults = append(p.Faults, f)
		}
	}
	return p
}

// actionEndpoints lists, sorted and once each, the endpoints of target
// the actions call.
func actionEndpoints(actions []string, target string) []endpoint {
	var out []endpoint
	for _, a := range actions {
		if targetOf(a) != target {
			continue
		}
		for _, e := range endpoints[a] {
			if !slices.Contains(out, e) {
				out = append(out, e)
			}
		}
	}
	slices.SortFunc(out, func(a, b endpoint) int { return strings.Compare(a.method+a.path, b.method+b.path) })
	return out
}

// httpFaults draws two or three faults at distinct endpoints of eps, the
// second matching request at most (an endpoint called once is hit).
func httpFaults(r *rand.Rand, target string, eps []endpoint) []Fault {
	r.Shuffle(len(eps), func(i, j int) { eps[i], eps[j] = eps[j], eps[i] })
	n := min(len(eps), 2+r.IntN(2))
	var out []Fault
	for _, e := range eps[:n] {
		k := httpKinds[r.IntN(len(httpKinds))]
		if k == Drop && e.method != "GET" {
			k = ServerError // a dropped POST is the non-idempotent case; see ServerError
		}
		skip := 0
		if e.method == "GET" {
			skip = r.IntN(2) // reads repeat (polls, lookups by every action); writes may come once
		}
		f := Fault{Kind: k, Target: target, Method: e.method, Path: e.path, Skip: skip, Times: 1}
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
