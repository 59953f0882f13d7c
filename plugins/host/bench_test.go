package host

import (
	"context"
	"testing"

	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/health/grpc_health_v1"
)

// BenchmarkExecuteWarm is one echo step through the Manager to a running
// plugin process: encode, stream, decode, type the outputs.
func BenchmarkExecuteWarm(b *testing.B) {
	m, _ := newManager(b, Options{})
	ctx := context.Background()
	req := sdk.Request{RunID: "r", StepID: "s", Action: "echo", IdempotencyKey: "r/s", Attempt: 1,
		Inputs: map[string]any{"text": "hello", "n": 3, "wait": "1m"}}
	if _, err := m.Execute(ctx, "test", req, nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Execute(ctx, "test", req, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlanWarm is one unary call through the Manager, for comparison
// with Execute's stream.
func BenchmarkPlanWarm(b *testing.B) {
	m, _ := newManager(b, Options{})
	ctx := context.Background()
	req := sdk.Request{Action: "echo", Inputs: map[string]any{"text": "hello", "n": 3}}
	if _, err := m.Plan(ctx, "test", req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Plan(ctx, "test", req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareGRPC is the floor: a health check on the same connection
// (unix socket, AutoMTLS) to the same plugin process, with no SDK on top.
func BenchmarkBareGRPC(b *testing.B) {
	m, _ := newManager(b, Options{})
	ctx := context.Background()
	p, err := m.acquire(ctx, "test")
	if err != nil {
		b.Fatal(err)
	}
	proto, err := p.client.Client()
	if err != nil {
		b.Fatal(err)
	}
	health := grpc_health_v1.NewHealthClient(proto.(*plugin.GRPCClient).Conn)
	req := &grpc_health_v1.HealthCheckRequest{Service: plugin.GRPCServiceName}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := health.Check(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStart is a plugin's cold start: process, AutoMTLS handshake,
// Describe and Configure. Killing it is not timed.
func BenchmarkStart(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		m, _ := newManager(b, Options{})
		if err := m.Start(ctx, "test"); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = m.Close()
		b.StartTimer()
	}
}
