package drill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/internal/chaos"
	"github.com/alpha-orion/runbook/internal/sandbox"
	"github.com/alpha-orion/runbook/plugins/contract/chain"
	"github.com/alpha-orion/runbook/plugins/neon/neonemu"
	"github.com/alpha-orion/runbook/plugins/render/renderemu"
)

// StageChaos stages runbook's drill as Stage does, then arms the world's
// stand-ins with plan's faults: they hit the run, never the staging. A
// fault aimed at a stand-in the scenario did not start is an error.
func (h *Host) StageChaos(ctx context.Context, runbook string, plan *chaos.Plan) (*sandbox.Stage, error) {
	st, err := h.Stage(ctx, runbook)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	w := h.world
	h.mu.Unlock()
	if err := w.arm(plan, st); err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	return st, nil
}

// ChaosReport says, for each fault of the staged drill's plan, whether it
// hit the run; asked before Verify, which disarms what is left.
func (h *Host) ChaosReport() []string {
	h.mu.Lock()
	w := h.world
	h.mu.Unlock()
	if w == nil {
		return nil
	}
	w.mu.Lock()
	armed := append([]armedFault(nil), w.armed...)
	w.mu.Unlock()
	var out []string
	for _, a := range armed {
		mark := "hit     "
		if !a.hit() {
			mark = "not hit " // the run never made the request it waits for
		}
		out = append(out, mark+a.fault.String())
	}
	return out
}

// armedFault is a fault of the plan and how to tell whether it hit.
type armedFault struct {
	fault chaos.Fault
	hit   func() bool
}

// disarm drops the faults not yet spent, so the end-state checks see the
// providers as they are (a check is a user's view, not part of the game).
func (w *World) disarm() {
	w.mu.Lock()
	neon, render := w.neon, w.render
	w.mu.Unlock()
	if neon != nil {
		neon.ClearFaults()
	}
	if render != nil {
		render.ClearFaults()
	}
	if g, ok := w.recall(gcsKey).(*GCS); ok {
		g.corruptReads(0, 0)
	}
	if d, ok := w.recall(dnsKey).(*DNS); ok {
		d.delayPropagation(0)
	}
}

// arm applies plan to the stand-ins; an RPC restart also points the run at
// a restartable endpoint in front of the chain (st's values are rewritten).
func (w *World) arm(plan *chaos.Plan, st *sandbox.Stage) error {
	if plan == nil {
		return nil
	}
	w.mu.Lock()
	neon, render, ch := w.neon, w.render, w.chain
	w.mu.Unlock()
	for i, f := range plan.Faults {
		hit, err := w.armOne(f, i, neon, render, ch, st)
		if err != nil {
			return err
		}
		w.mu.Lock()
		w.armed = append(w.armed, armedFault{fault: f, hit: hit})
		w.mu.Unlock()
	}
	return nil
}

// armOne applies one fault and returns how to tell whether it hit.
func (w *World) armOne(f chaos.Fault, i int, neon *neonemu.Emulator, render *renderemu.Emulator, ch *chain.Chain, st *sandbox.Stage) (func() bool, error) {
	label := fmt.Sprintf("chaos-%d", i)
	switch f.Target {
	case chaos.Neon:
		if neon == nil {
			return nil, errors.New("a fault for Neon, which this drill does not use")
		}
		if f.Kind == chaos.SlowOperation {
			neon.SlowNextOperation(f.Times)
			return func() bool { return !neon.SlowOperationPending() }, nil
		}
		neon.InjectFault(httpFault(f, label))
		return spent(neon.PendingFaults, label), nil
	case chaos.Render:
		if render == nil {
			return nil, errors.New("a fault for Render, which this drill does not use")
		}
		render.InjectFault(httpFault(f, label))
		return spent(render.PendingFaults, label), nil
	case chaos.GCS:
		g, ok := w.recall(gcsKey).(*GCS)
		if !ok {
			return nil, errors.New("a fault for GCS, which this drill does not use")
		}
		g.corruptReads(f.Skip, f.Times)
		return g.corruptionsDone, nil
	case chaos.DNS:
		d, ok := w.recall(dnsKey).(*DNS)
		if !ok {
			return nil, errors.New("a fault for DNS, which this drill does not use")
		}
		d.delayPropagation(f.Delay)
		return d.delayedAny, nil
	case chaos.Chain:
		if ch == nil {
			return nil, errors.New("a fault for the chain, which this drill does not use")
		}
		p, err := startRPCProxy(ch.URL(), f.Path, f.Skip, f.Delay, f.AfterEffect)
		if err != nil {
			return nil, err
		}
		w.onClose(p.close)
		replaceValue(st, ch.URL(), p.url())
		return p.restarted, nil
	}
	return nil, fmt.Errorf("unknown target %q", f.Target)
}

// spent tells whether the fault labelled label has hit all its times.
func spent(pending func() []neonemu.Fault, label string) func() bool {
	return func() bool {
		for _, p := range pending() {
			if p.Label == label {
				return false
			}
		}
		return true
	}
}

// httpFault is a plan's fault as the emulators' pipeline takes it
// (neonemu.Fault and renderemu.Fault are one type).
func httpFault(f chaos.Fault, label string) neonemu.Fault {
	ef := neonemu.Fault{Method: f.Method, PathContains: f.Path, Skip: f.Skip, Times: f.Times, AfterEffect: f.AfterEffect, Label: label}
	switch f.Kind {
	case chaos.Throttle:
		ef.Status, ef.RetryAfter = 429, f.Delay
	case chaos.ThrottleDate:
		ef.Status, ef.RetryAfter, ef.RetryAfterDate = 429, f.Delay, true
	case chaos.ThrottleBare:
		ef.Status = 429
	case chaos.ServerError:
		ef.Status = f.Status
	case chaos.Slow:
		ef.Delay = f.Delay
	case chaos.Drop:
		ef.Drop = true
	}
	return ef
}

// replaceValue points every param, secret, override and variable of st
// that is old at new.
func replaceValue(st *sandbox.Stage, old, new string) {
	for _, m := range []map[string]string{st.Params, st.Secrets, st.Env} {
		for k, v := range m {
			if v == old {
				m[k] = new
			}
		}
	}
	for _, m := range st.Overrides {
		for k, v := range m {
			if v == old {
				m[k] = new
			}
		}
	}
}

// corruptReads makes the object downloads after the first skip, times of
// them, carry a flipped bit: the checksums GCS reported no longer match.
func (g *GCS) corruptReads(skip, times int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.corruptSkip, g.corruptLeft = skip, times
}

// corruptionsDone reports whether every corruption asked for was made.
func (g *GCS) corruptionsDone() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.corruptLeft == 0 && g.corrupted > 0
}

// takeCorruption reports whether this download is one to corrupt.
func (g *GCS) takeCorruption() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.corruptLeft == 0 {
		return false
	}
	if g.corruptSkip > 0 {
		g.corruptSkip--
		return false
	}
	g.corruptLeft--
	g.corrupted++
	return true
}

// corruptWriter flips a bit of the first byte of the body it passes on.
type corruptWriter struct {
	http.ResponseWriter
	done bool
}

// Write passes b on, the first byte of the body altered.
func (c *corruptWriter) Write(b []byte) (int, error) {
	if !c.done && len(b) > 0 {
		c.done = true
		b = append([]byte{b[0] ^ 0x01}, b[1:]...)
	}
	return c.ResponseWriter.Write(b)
}

// delayPropagation makes every DNS change visible d later than usual.
func (d *DNS) delayPropagation(extra time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.extra = extra
}

// delayedAny reports whether a change was published with the added delay.
func (d *DNS) delayedAny() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.delayed > 0
}

// rpcProxy stands in front of the chain's JSON-RPC endpoint and restarts
// once: on request skip+1 it stops listening and drops every connection,
// that request's included (handled by the node first when afterEffect is
// set, as a node that restarts after accepting a transaction), and listens
// again on the same address after down. The chain behind it keeps its state, as a node restarting from its
// database does.
type rpcProxy struct {
	addr  string
	proxy *httputil.ReverseProxy

	mu    sync.Mutex // guards the fields below
	srv   *http.Server
	skip  int
	armed bool
	down  time.Duration
	shut  bool // closed for good: no restart listens again
	fired bool // the restart happened
	// afterEffect: the node handles the request the restart drops.
	afterEffect bool
	// method is the JSON-RPC method whose calls the restart counts; "" counts every request.
	method string
	// gate, when set (by tests), holds the endpoint down until it closes.
	gate chan struct{}
}

func startRPCProxy(target, method string, skip int, down time.Duration, afterEffect bool) (*rpcProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", loopback())
	if err != nil {
		return nil, fmt.Errorf("chaos: RPC endpoint: %w", err)
	}
	p := &rpcProxy{addr: l.Addr().String(), proxy: httputil.NewSingleHostReverseProxy(u), method: method, skip: skip, armed: true, down: down, afterEffect: afterEffect}
	p.serve(l)
	return p, nil
}

func (p *rpcProxy) url() string { return "http://" + p.addr }

// serve starts a server on l; call without mu held.
func (p *rpcProxy) serve(l net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(p.handle), ReadHeaderTimeout: 5 * time.Second}
	p.mu.Lock()
	p.srv = srv
	p.mu.Unlock()
	go srv.Serve(l)
}

// handle forwards a request, or restarts the endpoint when its turn came.
func (p *rpcProxy) handle(w http.ResponseWriter, r *http.Request) {
	counts := true
	if p.method != "" {
		body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		counts = bytes.Contains(body, []byte(`"method":"`+p.method+`"`))
	}
	p.mu.Lock()
	restart := false
	if p.armed && counts {
		if p.skip > 0 {
			p.skip--
		} else {
			p.armed, restart, p.fired = false, true, true
		}
	}
	srv := p.srv
	p.mu.Unlock()
	if !restart {
		p.proxy.ServeHTTP(w, r)
		return
	}
	if p.afterEffect {
		p.proxy.ServeHTTP(httptest.NewRecorder(), r) // handled; its answer is lost
	}
	srv.Close() // the listener and every connection, this one's too
	go p.relisten()
	panic(http.ErrAbortHandler) // no answer
}

// restarted reports whether the endpoint restarted.
func (p *rpcProxy) restarted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fired
}

// relisten waits out the restart, and listens again on the same address.
func (p *rpcProxy) relisten() {
	time.Sleep(p.down)
	if p.gate != nil {
		<-p.gate
	}
	for try := 0; try < 50; try++ {
		p.mu.Lock()
		shut := p.shut
		p.mu.Unlock()
		if shut {
			return
		}
		l, err := net.Listen("tcp", p.addr)
		if err == nil {
			p.serve(l)
			return
		}
		time.Sleep(20 * time.Millisecond) // the old socket may linger a moment
	}
}

// close stops the endpoint.
func (p *rpcProxy) close() error {
	p.mu.Lock()
	srv := p.srv
	p.armed, p.shut = false, true
	p.mu.Unlock()
	if srv != nil {
		return srv.Close()
	}
	return nil
}
