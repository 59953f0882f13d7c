package sdk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	pb "github.com/alpha-orion/runbook/plugins/proto"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ProtocolVersion is the newest version of the plugin protocol this SDK
// speaks; go-plugin's handshake negotiates it.
const ProtocolVersion = 1

// PluginKey is the name the protocol's gRPC service is dispensed under.
const PluginKey = "runbook"

// MaxMessageSize bounds one gRPC message either way, e.g. a query's rows.
const MaxMessageSize = 64 << 20

// Handshake is the go-plugin handshake between the runbook engine and its
// plugins. The cookie only tells a plugin started by hand that it was.
var Handshake = plugin.HandshakeConfig{
	MagicCookieKey:   "RUNBOOK_PLUGIN_COOKIE",
	MagicCookieValue: "9d1f2c74-runbook-plugin",
}

// ErrNotStartedByHost is Serve's answer when a person runs a plugin by hand.
var ErrNotStartedByHost = errors.New("this program is a runbook plugin: the runbook engine starts it, it is not meant to be run by hand")

// VersionedPlugins returns the plugin sets by protocol version, for
// go-plugin's ServeConfig or ClientConfig; impl is nil on the host's side.
func VersionedPlugins(impl Plugin) map[int]plugin.PluginSet {
	return versionedPlugins(impl, hclog.NewNullLogger())
}

func versionedPlugins(impl Plugin, log hclog.Logger) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		1: {PluginKey: &grpcPlugin{impl: impl, log: log}},
	}
}

// Serve serves p to the runbook engine that started this process and
// returns when the engine is done with it. It returns ErrNotStartedByHost
// when no engine started the process, or an error if p's Spec is invalid.
func Serve(p Plugin) error {
	if os.Getenv(Handshake.MagicCookieKey) != Handshake.MagicCookieValue {
		return ErrNotStartedByHost
	}
	if err := validateSpec(p.Spec()); err != nil {
		return err
	}
	exitWithHost()
	// JSON on stderr is how go-plugin forwards a plugin's own log to the
	// host; only warnings and errors are worth the trip.
	log := hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: os.Stderr, JSONFormat: true})
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: versionedPlugins(p, log),
		GRPCServer:       newGRPCServer,
		TLSProvider:      serverTLS,
		Logger:           log,
	})
	return nil
}

// Main is a plugin executable's whole main function: it serves p and exits
// 0, or prints why it cannot (for example, when run by hand) and exits 1.
func Main(p Plugin) {
	if err := Serve(p); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", filepath.Base(os.Args[0]), err)
		os.Exit(1)
	}
	os.Exit(0)
}

// exitWithHost ends the plugin once the engine that started it is gone,
// for an engine killed before it could stop its plugins: go-plugin would
// leave the plugin running for ever. The orphan's parent id changes when
// the system adopts it.
func exitWithHost() {
	host := os.Getppid()
	if host <= 1 {
		return
	}
	go func() {
		for range time.Tick(500 * time.Millisecond) {
			if os.Getppid() != host {
				os.Exit(1)
			}
		}
	}()
}

func newGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	opts = append(opts, grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize))
	return grpc.NewServer(opts...)
}

// grpcPlugin adapts the protocol to go-plugin, on both sides.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl Plugin
	log  hclog.Logger
}

// GRPCServer registers the plugin's implementation.
func (g *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if g.impl == nil {
		return errors.New("runbook plugin: nothing to serve")
	}
	srv, err := newServer(g.impl, g.log)
	if err != nil {
		return err
	}
	pb.RegisterPluginServer(s, srv)
	return nil
}

// GRPCClient returns the host's typed client.
func (g *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewClient(c), nil
}

// server serves one Plugin over the protocol.
type server struct {
	pb.UnimplementedPluginServer
	impl    Plugin
	spec    catalog.Plugin
	actions map[string]*catalog.Action
	log     hclog.Logger

	mu      sync.RWMutex
	secrets []string // secret configuration values, masked in every message
}

func newServer(p Plugin, log hclog.Logger) (*server, error) {
	spec := p.Spec()
	if err := validateSpec(spec); err != nil {
		return nil, err
	}
	s := &server{impl: p, spec: spec, actions: map[string]*catalog.Action{}, log: log}
	for i := range spec.Actions {
		s.actions[spec.Actions[i].Name] = &spec.Actions[i]
	}
	return s, nil
}

// Describe returns the catalogue entry.
func (s *server) Describe(context.Context, *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	return &pb.DescribeResponse{Plugin: specToPB(s.spec)}, nil
}

// Configure checks the configuration against the spec and passes it on.
func (s *server) Configure(ctx context.Context, r *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	raw := decodeMap(r.GetConfig())
	s.mu.Lock()
	s.secrets = secretValues(s.spec.Config, raw)
	s.mu.Unlock()
	mask := s.masker(nil)
	cfg, err := coerce(s.spec.Config, raw, "config", true)
	if err != nil {
		return &pb.ConfigureResponse{Error: errorToPB(WithKind(KindBadInput, err), mask)}, nil
	}
	err = s.safely("Configure", mask, func() error { return s.impl.Configure(ctx, cfg) })
	return &pb.ConfigureResponse{Error: errorToPB(err, mask)}, nil
}

// Plan asks the plugin what a step would do.
func (s *server) Plan(ctx context.Context, r *pb.StepRequest) (*pb.PlanResponse, error) {
	req, _, mask, err := s.step(r)
	if err != nil {
		return &pb.PlanResponse{Error: errorToPB(err, mask)}, nil
	}
	var plan Plan
	err = s.safely("Plan", mask, func() (err error) { plan, err = s.impl.Plan(ctx, req); return err })
	if err != nil {
		return &pb.PlanResponse{Error: errorToPB(err, mask)}, nil
	}
	resp := &pb.PlanResponse{Summary: mask(plan.Summary)}
	if plan.Outputs != nil {
		if resp.Outputs, err = encodeMap(plan.Outputs); err != nil {
			return &pb.PlanResponse{Error: errorToPB(Errorf(KindPermanent, "plan outputs: %w", err), mask)}, nil
		}
	}
	return resp, nil
}

// Execute runs a step, streaming its log lines, then its result.
func (s *server) Execute(r *pb.StepRequest, stream pb.Plugin_ExecuteServer) error {
	req, a, mask, err := s.step(r)
	if err != nil {
		return stream.Send(resultEvent(nil, errorToPB(err, mask)))
	}
	log := &streamLogger{send: stream.Send, mask: mask}
	var out map[string]any
	err = s.safely("Execute", mask, func() (err error) {
		out, err = s.impl.Execute(stream.Context(), req, log)
		return err
	})
	log.close()
	if err != nil {
		return stream.Send(resultEvent(nil, errorToPB(err, mask)))
	}
	enc, err := s.outputs(a, out)
	return stream.Send(resultEvent(enc, errorToPB(err, mask)))
}

// Reconcile asks the plugin whether a step already took effect.
func (s *server) Reconcile(ctx context.Context, r *pb.StepRequest) (*pb.ReconcileResponse, error) {
	req, a, mask, err := s.step(r)
	if err != nil {
		return &pb.ReconcileResponse{Error: errorToPB(err, mask)}, nil
	}
	var rec Reconciliation
	err = s.safely("Reconcile", mask, func() (err error) { rec, err = s.impl.Reconcile(ctx, req); return err })
	if err != nil {
		return &pb.ReconcileResponse{Error: errorToPB(err, mask)}, nil
	}
	if rec.State != Applied {
		return &pb.ReconcileResponse{State: stateToPB(rec.State)}, nil
	}
	enc, err := s.outputs(a, rec.Outputs)
	return &pb.ReconcileResponse{State: stateToPB(rec.State), Outputs: enc, Error: errorToPB(err, mask)}, nil
}

// step decodes a step request and checks its inputs against the action.
func (s *server) step(r *pb.StepRequest) (Request, *catalog.Action, func(string) string, error) {
	a, ok := s.actions[r.GetAction()]
	if !ok {
		return Request{}, nil, s.masker(nil), BadInput("plugin %s has no action %q", s.spec.Name, r.GetAction())
	}
	raw := decodeMap(r.GetInputs())
	mask := s.masker(secretValues(a.Inputs, raw))
	in, err := coerce(a.Inputs, raw, "input", true)
	if err != nil {
		return Request{}, a, mask, WithKind(KindBadInput, err)
	}
	return Request{
		RunID:          r.GetRunId(),
		StepID:         r.GetStepId(),
		Action:         a.Name,
		Inputs:         in,
		IdempotencyKey: r.GetIdempotencyKey(),
		Attempt:        int(r.GetAttempt()),
	}, a, mask, nil
}

// outputs encodes a step's outputs and checks them as the host will, so a
// plugin that returns the wrong type is told so by name.
func (s *server) outputs(a *catalog.Action, out map[string]any) (*structpb.Struct, error) {
	enc, err := encodeMap(out)
	if err != nil {
		return nil, Errorf(KindPermanent, "plugin %s: action %s returned an output it cannot send: %w", s.spec.Name, a.Name, err)
	}
	if _, err := coerce(a.Outputs, decodeMap(enc), "output", false); err != nil {
		return nil, Errorf(KindPermanent, "plugin %s: action %s returned bad outputs: %w", s.spec.Name, a.Name, err)
	}
	return enc, nil
}

// safely calls f, turning a panic into a permanent error.
func (s *server) safely(call string, mask func(string) string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			msg := mask(fmt.Sprint(r))
			s.log.Error("plugin panicked", "call", call, "panic", msg, "stack", string(debug.Stack()))
			err = Errorf(KindPermanent, "plugin %s panicked in %s: %s", s.spec.Name, call, msg)
		}
	}()
	return f()
}

// masker returns a function that replaces every secret value, the
// configuration's and the given ones, with "***".
func (s *server) masker(more []string) func(string) string {
	s.mu.RLock()
	all := append(append([]string(nil), s.secrets...), more...)
	s.mu.RUnlock()
	if len(all) == 0 {
		return func(m string) string { return m }
	}
	// Longest first, so a secret that contains another is masked whole.
	sort.Slice(all, func(i, j int) bool { return len(all[i]) > len(all[j]) })
	pairs := make([]string, 0, 2*len(all))
	for _, v := range all {
		pairs = append(pairs, v, "***")
	}
	return strings.NewReplacer(pairs...).Replace
}

// secretValues returns the text of every secret field's value in m.
func secretValues(fields []catalog.Field, m map[string]any) []string {
	var out []string
	for _, f := range fields {
		if f.Secret {
			out = appendLeaves(out, m[f.Name])
		}
	}
	return out
}

func appendLeaves(out []string, v any) []string {
	switch x := v.(type) {
	case nil:
	case map[string]any:
		for _, e := range x {
			out = appendLeaves(out, e)
		}
	case []any:
		for _, e := range x {
			out = appendLeaves(out, e)
		}
	default:
		if s := fmt.Sprint(x); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func resultEvent(out *structpb.Struct, e *pb.Error) *pb.ExecuteEvent {
	return &pb.ExecuteEvent{Event: &pb.ExecuteEvent_Result{Result: &pb.Result{Outputs: out, Error: e}}}
}

// streamLogger sends a step's log lines down its Execute stream.
type streamLogger struct {
	mu     sync.Mutex
	send   func(*pb.ExecuteEvent) error
	mask   func(string) string
	closed bool
}

// Printf sends an informational line.
func (l *streamLogger) Printf(format string, args ...any) {
	l.emit(pb.LogLevel_LOG_LEVEL_INFO, format, args)
}

// Warnf sends a warning.
func (l *streamLogger) Warnf(format string, args ...any) {
	l.emit(pb.LogLevel_LOG_LEVEL_WARN, format, args)
}

func (l *streamLogger) emit(level pb.LogLevel, format string, args []any) {
	line := &pb.LogLine{Time: timestamppb.Now(), Level: level, Message: l.mask(fmt.Sprintf(format, args...))}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return // a goroutine the step left behind; the stream is gone
	}
	_ = l.send(&pb.ExecuteEvent{Event: &pb.ExecuteEvent_Log{Log: line}})
}

// close drops any later line: a stream must not be used after its handler returns.
func (l *streamLogger) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

// validateSpec checks what the SDK relies on in a plugin's catalogue entry.
func validateSpec(p catalog.Plugin) error {
	var problems []string
	if p.Name == "" {
		problems = append(problems, "the plugin has no name")
	}
	problems = append(problems, fieldProblems("config", p.Config)...)
	seen := map[string]bool{}
	for _, a := range p.Actions {
		switch {
		case a.Name == "":
			problems = append(problems, "an action has no name")
		case seen[a.Name]:
			problems = append(problems, fmt.Sprintf("action %q is declared twice", a.Name))
		}
		seen[a.Name] = true
		problems = append(problems, fieldProblems("action "+a.Name+": input", a.Inputs)...)
		problems = append(problems, fieldProblems("action "+a.Name+": output", a.Outputs)...)
	}
	if len(problems) > 0 {
		return fmt.Errorf("plugin %q: invalid spec: %s", p.Name, strings.Join(problems, "; "))
	}
	return nil
}

func fieldProblems(what string, fs []catalog.Field) []string {
	var problems []string
	seen := map[string]bool{}
	for _, f := range fs {
		switch {
		case f.Name == "":
			problems = append(problems, what+" with no name")
		case seen[f.Name]:
			problems = append(problems, fmt.Sprintf("%s %q is declared twice", what, f.Name))
		case !f.Type.Valid():
			problems = append(problems, fmt.Sprintf("%s %q has unknown type %q", what, f.Name, f.Type))
		}
		seen[f.Name] = true
	}
	return problems
}
