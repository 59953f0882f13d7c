package host

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/alpha-orion/runbook/internal/testenv"
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

// providerBin holds the provider executables BenchmarkStartProvider
// starts, built once.
var providerBin = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "runbook-bench-providers-")
	if err != nil {
		return "", err
	}
	return dir, testenv.Build(dir+"/", "./cmd/runbook-plugin-secret", "./cmd/runbook-plugin-http", "./cmd/runbook-plugin-neon", "./cmd/runbook-plugin-postgres")
})

// BenchmarkStartProvider is a shipped provider's cold start as `runbook run`
// pays it: find the executable, start the process, TLS handshake, Describe
// and Configure. Killing it is not timed.
func BenchmarkStartProvider(b *testing.B) {
	dir, err := providerBin()
	if err != nil {
		b.Fatal(err)
	}
	configs := map[string]map[string]any{
		"secret":   nil,
		"http":     nil,
		"neon":     {"project_id": "bench", "api_key": "bench-key"},
		"postgres": nil,
	}
	for _, name := range []string{"secret", "http", "neon", "postgres"} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				m := New(Options{Providers: []string{name}, Search: []string{dir}, Config: map[string]map[string]any{name: configs[name]}})
				if err := m.Start(ctx, name); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				_ = m.Close()
				b.StartTimer()
			}
		})
	}
}
