package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/alpha-orion/runbook/internal/chaos"
)

// Handler is what the sandbox executable does for each request.
type Handler interface {
	Drills() []Drill
	// Stage starts the stand-ins of runbook's drill and stages its
	// incident; a *MissingError says a local program is not installed.
	Stage(ctx context.Context, runbook string) (*Stage, error)
	// Verify checks the end state of the staged drill.
	Verify(ctx context.Context) ([]Check, error)
	// CloseDrill stops the staged drill's stand-ins; it is also called
	// when the input ends.
	CloseDrill() error
	// Queue gives the order of the drills to come, which the handler may
	// stage ahead of their turn.
	Queue(runbooks []string)
}

// ChaosHandler is a Handler whose stand-ins can inject faults.
type ChaosHandler interface {
	Handler
	// StageChaos stages runbook's drill as Stage does, then arms its
	// stand-ins with plan's faults.
	StageChaos(ctx context.Context, runbook string, plan *chaos.Plan) (*Stage, error)
	// ChaosReport says which faults of the staged drill's plan hit the
	// run, one line each (none without a plan); it is asked before Verify.
	ChaosReport() []string
}

// maxRequest bounds one request line.
const maxRequest = 64 << 10

// Serve answers the requests read from r on w, one line each, until r ends
// or ctx is done; then it closes the current drill.
func Serve(ctx context.Context, r io.Reader, w io.Writer, h Handler) error {
	defer h.CloseDrill()
	in := bufio.NewScanner(r)
	in.Buffer(make([]byte, 4096), maxRequest)
	enc := json.NewEncoder(w)
	for in.Scan() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var req Request
		resp := Response{}
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			resp.Error = fmt.Sprintf("bad request: %v", err)
		} else {
			resp = answer(ctx, h, req)
		}
		if err := enc.Encode(resp); err != nil {
			return err
		}
	}
	return in.Err()
}

func answer(ctx context.Context, h Handler, req Request) (resp Response) {
	fail := func(err error) Response {
		resp.Error = err.Error()
		var missing *MissingError
		if errors.As(err, &missing) {
			resp.Missing = missing.Program
		}
		return resp
	}
	switch req.Op {
	case OpList:
		resp.Drills = h.Drills()
	case OpStage:
		st, err := stage(ctx, h, req)
		if err != nil {
			return fail(err)
		}
		resp.Stage = st
	case OpVerify:
		if ch, ok := h.(ChaosHandler); ok {
			resp.Faults = ch.ChaosReport()
		}
		checks, err := h.Verify(ctx)
		if err != nil {
			return fail(err)
		}
		resp.Checks = checks
		if resp.Checks == nil {
			resp.Checks = []Check{}
		}
	case OpQueue:
		h.Queue(req.Runbooks)
	case OpClose:
		if err := h.CloseDrill(); err != nil {
			return fail(err)
		}
	default:
		return fail(fmt.Errorf("unknown op %q", req.Op))
	}
	return resp
}

// stage stages a drill, with its fault plan when the request has one.
func stage(ctx context.Context, h Handler, req Request) (*Stage, error) {
	if req.Chaos == nil {
		return h.Stage(ctx, req.Runbook)
	}
	ch, ok := h.(ChaosHandler)
	if !ok {
		return nil, errors.New("this sandbox cannot inject faults (--chaos)")
	}
	return ch.StageChaos(ctx, req.Runbook, req.Chaos)
}
