package run

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/lint"
	"github.com/alpha-orion/runbook/engine/redact"
	"github.com/alpha-orion/runbook/internal/pgserver"
	"github.com/alpha-orion/runbook/internal/pgserver/pgtest"
	"github.com/alpha-orion/runbook/plugins/host"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

const benchSteps = 500

// benchRunbook is 500 test.echo steps: a chain (each reads the previous
// step's output) or a wide DAG (all independent, then one join).
func benchRunbook(b *testing.B, wide bool) Options {
	var s strings.Builder
	fmt.Fprintf(&s, header, "bench")
	s.WriteString("concurrency: 8\nsteps:\n")
	for i := 0; i < benchSteps; i++ {
		switch {
		case wide:
			fmt.Fprintf(&s, "  - {id: s%d, uses: test.echo, needs: [], with: {n: %d}}\n", i, i)
		case i == 0:
			s.WriteString("  - {id: s0, uses: test.echo, with: {n: 0}}\n")
		default:
			fmt.Fprintf(&s, "  - {id: s%d, uses: test.echo, with: {n: \"${{ steps.s%d.outputs.n + 1 }}\"}}\n", i, i-1)
		}
	}
	rb, diags := lint.Bytes("bench.yaml", []byte(s.String()), testCatalog)
	if err := diags.Err(); err != nil {
		b.Fatal(err)
	}
	m := warmManager(b)
	return Options{Runbook: rb, Catalog: testCatalog, Dispatcher: m, StateDir: b.TempDir(), User: "bench", Redactor: redact.New()}
}

func warmManager(b *testing.B) *host.Manager {
	m := host.New(host.Options{Builtins: []string{"test"}, Catalog: testCatalog})
	b.Cleanup(func() { m.Close() })
	if _, err := m.Execute(context.Background(), "test", sdk.Request{Action: "echo", Inputs: map[string]any{"n": 1}}, nil); err != nil {
		b.Fatal(err)
	}
	return m
}

func benchRun(b *testing.B, wide bool) {
	benchRunOn(b, benchRunbook(b, wide))
}

func benchRunOn(b *testing.B, o Options) {
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Start(context.Background(), o)
		if err != nil {
			b.Fatalf("run: %v", err)
		}
		if res.Status != "succeeded" {
			b.Fatalf("run %s: %v", res.Status, res.Err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchSteps)/1e6, "ms/step")
}

// BenchmarkChain500 runs a 500-step chain through a warm out-of-process plugin with the journal on.
func BenchmarkChain500(b *testing.B) { benchRun(b, false) }

// BenchmarkChain500Postgres is BenchmarkChain500 with the journal and lock
// in a PostgreSQL state database on loopback.
// The shared test server runs without fsync; the fsync case starts one that
// flushes its WAL on commit, as a real state database does.
func BenchmarkChain500Postgres(b *testing.B) {
	b.Run("nofsync", func(b *testing.B) {
		o := benchRunbook(b, false)
		o.Store, o.StateDir = stores["postgres"](b, nil), ""
		benchRunOn(b, o)
	})
	b.Run("fsync", func(b *testing.B) {
		pgtest.Start(b) // skips when PostgreSQL is missing
		ctx := context.Background()
		srv, err := pgserver.Start(ctx, pgserver.Options{Settings: map[string]string{"fsync": "on", "full_page_writes": "on", "synchronous_commit": "on"}})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { srv.Stop() })
		if err := srv.CreateDatabase(ctx, "state"); err != nil {
			b.Fatal(err)
		}
		st, err := journal.Open(ctx, srv.URL("state"))
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		o := benchRunbook(b, false)
		o.Store, o.StateDir = st, ""
		benchRunOn(b, o)
	})
}

// BenchmarkWide500 runs 500 independent steps (concurrency 8) with the journal on.
func BenchmarkWide500(b *testing.B) { benchRun(b, true) }

// BenchmarkBarePluginCall is the floor: one warm Execute call, no engine, no journal.
func BenchmarkBarePluginCall(b *testing.B) {
	m := warmManager(b)
	req := sdk.Request{Action: "echo", Inputs: map[string]any{"n": 1}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Execute(context.Background(), "test", req, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/call")
}
