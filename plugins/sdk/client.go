package sdk

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	pb "github.com/alpha-orion/runbook/plugins/proto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Client is the host's typed view of one plugin served over the protocol.
// Its errors carry a Kind: the plugin's own, or KindCrashed, KindCanceled,
// KindDeadlineExceeded or KindUnimplemented when the call itself failed.
// It is safe for concurrent use.
type Client struct {
	rpc pb.PluginClient

	mu   sync.Mutex
	spec *catalog.Plugin
}

// NewClient returns a client talking to the plugin behind conn.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{rpc: pb.NewPluginClient(conn)}
}

// Describe returns the plugin's catalogue entry, asking the plugin once.
func (c *Client) Describe(ctx context.Context) (catalog.Plugin, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.spec != nil {
		return *c.spec, nil
	}
	resp, err := c.rpc.Describe(ctx, &pb.DescribeRequest{})
	if err != nil {
		return catalog.Plugin{}, callError(ctx, err)
	}
	spec := specFromPB(resp.GetPlugin())
	c.spec = &spec
	return spec, nil
}

// Configure sends the plugin its configuration.
func (c *Client) Configure(ctx context.Context, config map[string]any) error {
	cfg, err := encodeMap(config)
	if err != nil {
		return Errorf(KindBadInput, "config %w", err)
	}
	resp, err := c.rpc.Configure(ctx, &pb.ConfigureRequest{Config: cfg})
	if err != nil {
		return callError(ctx, err)
	}
	return errorFromPB(resp.GetError())
}

// Plan asks what a step would do. Expected outputs are typed where they
// match their declaration and passed as they are otherwise.
func (c *Client) Plan(ctx context.Context, req Request) (Plan, error) {
	r, err := requestToPB(req)
	if err != nil {
		return Plan{}, err
	}
	resp, err := c.rpc.Plan(ctx, r)
	if err != nil {
		return Plan{}, callError(ctx, err)
	}
	if err := errorFromPB(resp.GetError()); err != nil {
		return Plan{}, err
	}
	outs, err := c.outputFields(ctx, req.Action)
	if err != nil {
		return Plan{}, err
	}
	plan := Plan{Summary: resp.GetSummary()}
	if resp.GetOutputs() != nil {
		plan.Outputs = lenient(outs, decodeMap(resp.GetOutputs()))
	}
	return plan, nil
}

// Execute runs one attempt of a step. Each log line the step writes is
// passed to onLog (which may be nil) as it arrives; the outputs come back
// typed as the action declares them.
func (c *Client) Execute(ctx context.Context, req Request, onLog func(LogLine)) (map[string]any, error) {
	r, err := requestToPB(req)
	if err != nil {
		return nil, err
	}
	outs, err := c.outputFields(ctx, req.Action)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream however the loop ends
	stream, err := c.rpc.Execute(ctx, r)
	if err != nil {
		return nil, callError(ctx, err)
	}
	for {
		ev, err := stream.Recv()
		if err == io.EOF {
			return nil, Errorf(KindUnknown, "plugin ended step %s without a result", req.StepID)
		}
		if err != nil {
			return nil, callError(ctx, err)
		}
		switch e := ev.GetEvent().(type) {
		case *pb.ExecuteEvent_Log:
			if onLog != nil {
				onLog(logLineFromPB(e.Log))
			}
		case *pb.ExecuteEvent_Result:
			_, _ = stream.Recv() // io.EOF: the server has finished the call
			if err := errorFromPB(e.Result.GetError()); err != nil {
				return nil, err
			}
			return typedOutputs(outs, e.Result)
		}
	}
}

// Reconcile asks whether the step with req.IdempotencyKey already took effect.
func (c *Client) Reconcile(ctx context.Context, req Request) (Reconciliation, error) {
	r, err := requestToPB(req)
	if err != nil {
		return Reconciliation{}, err
	}
	resp, err := c.rpc.Reconcile(ctx, r)
	if err != nil {
		return Reconciliation{}, callError(ctx, err)
	}
	if err := errorFromPB(resp.GetError()); err != nil {
		return Reconciliation{}, err
	}
	rec := Reconciliation{State: stateFromPB(resp.GetState())}
	if rec.State == Applied {
		outs, err := c.outputFields(ctx, req.Action)
		if err != nil {
			return Reconciliation{}, err
		}
		rec.Outputs, err = typedOutputs(outs, &pb.Result{Outputs: resp.GetOutputs()})
		if err != nil {
			return Reconciliation{}, err
		}
	}
	return rec, nil
}

// outputFields returns the outputs the action declares; none if the plugin
// does not know the action (the plugin then reports that itself).
func (c *Client) outputFields(ctx context.Context, action string) ([]catalog.Field, error) {
	spec, err := c.Describe(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range spec.Actions {
		if a.Name == action {
			return a.Outputs, nil
		}
	}
	return nil, nil
}

func typedOutputs(fields []catalog.Field, r *pb.Result) (map[string]any, error) {
	out, err := coerce(fields, decodeMap(r.GetOutputs()), "output", false)
	if err != nil {
		return nil, Errorf(KindPermanent, "plugin returned bad outputs: %w", err)
	}
	for _, f := range fields {
		if f.Type == catalog.Rows {
			if rows, ok := out[f.Name].([]any); ok {
				retimeRows(rows)
			}
		}
	}
	return out, nil
}

// retimeRows turns timestamps nested in query rows back into time.Time: they
// cross the wire as RFC 3339 text and no declaration says which columns are
// times. A text column holding exactly such a string becomes a time too,
// which is what a guard comparing it with now() needs anyway.
func retimeRows(rows []any) {
	for _, r := range rows {
		row, ok := r.(map[string]any)
		if !ok {
			continue
		}
		for k, v := range row {
			if s, ok := v.(string); ok && looksLikeTime(s) {
				if ts, err := time.Parse(time.RFC3339Nano, s); err == nil {
					row[k] = ts
				}
			}
		}
	}
}

func looksLikeTime(s string) bool {
	return len(s) >= 20 && len(s) <= 35 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':'
}

// lenient types the values that match their declaration and keeps the rest.
func lenient(fields []catalog.Field, m map[string]any) map[string]any {
	for k, v := range m {
		if f, ok := field(fields, k); ok {
			if cv, err := f.Type.Coerce(v); err == nil {
				m[k] = cv
			}
		}
	}
	return m
}

func logLineFromPB(l *pb.LogLine) LogLine {
	line := LogLine{Time: l.GetTime().AsTime(), Message: l.GetMessage()}
	if l.GetLevel() == pb.LogLevel_LOG_LEVEL_WARN {
		line.Level = LevelWarn
	}
	return line
}

// callError gives a failed call's gRPC error a Kind. The caller's own
// cancellation or deadline wins; UNAVAILABLE means the plugin process is
// gone (it crashed or was killed).
func callError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return &Error{Kind: KindOf(ctxErr), Err: ctxErr}
	}
	st := status.Convert(err)
	switch st.Code() {
	case codes.Canceled:
		return &Error{Kind: KindCanceled, Err: context.Canceled}
	case codes.DeadlineExceeded:
		return &Error{Kind: KindDeadlineExceeded, Err: context.DeadlineExceeded}
	case codes.Unavailable:
		return Errorf(KindCrashed, "plugin process is gone: %s", st.Message())
	case codes.Unimplemented:
		return Errorf(KindUnimplemented, "plugin does not implement this: %s", st.Message())
	}
	return Errorf(KindUnknown, "plugin call failed: %s: %s", st.Code(), st.Message())
}
