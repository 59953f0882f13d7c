package schemacheck

import (
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// benchRunbook writes a valid runbook of n steps, each with retry, when and needs.
func benchRunbook(n int) string {
	var b strings.Builder
	b.WriteString(`apiVersion: runbook/v1
kind: Runbook
metadata:
  name: bench
  title: A generated runbook
  owner: sre
  tags: [bench]
objectives: {rto: 4h, rpo: 1h}
params:
  region: {type: string, enum: [oregon, frankfurt], default: oregon}
  restore_to: {type: timestamp, required: true}
secrets: [NEON_API_KEY]
plugins:
  neon: {api_key: "${{ secrets.NEON_API_KEY }}"}
concurrency: 4
timeout: 3h
steps:
`)
	for i := range n {
		fmt.Fprintf(&b, `  - id: step-%d
    name: Step number %d
    uses: neon.restore_branch
    with: {branch: main, timestamp: "${{ params.restore_to }}", attempt: %d}
`, i, i, i)
		if i > 0 {
			fmt.Fprintf(&b, "    needs: [step-%d]\n", i-1)
		}
		fmt.Fprintf(&b, `    when: params.region == "oregon"
    timeout: 30m
    retry: {attempts: 3, delay: 10s, backoff: exponential, max_delay: 2m, jitter: true}
    check: outputs.ok
`)
	}
	return b.String()
}

const benchSteps = 50

func benchDoc(b *testing.B, src string) *yaml.Node {
	b.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		b.Fatal(err)
	}
	return &doc
}

// reportPerStep adds ns/step and steps/s to the benchmark's figures.
func reportPerStep(b *testing.B, parallel bool) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	if !parallel {
		b.ReportMetric(ns/benchSteps, "ns/step")
	}
	b.ReportMetric(benchSteps*1e9/ns, "steps/s")
}

// BenchmarkCheck checks a valid runbook of 50 steps with retry, when and needs.
func BenchmarkCheck(b *testing.B) {
	doc := benchDoc(b, benchRunbook(benchSteps))
	if l := Check("bench.yaml", doc); len(l) > 0 {
		b.Fatalf("generated runbook is not clean:\n%v", l)
	}
	b.ReportAllocs()
	for b.Loop() {
		Check("bench.yaml", doc)
	}
	reportPerStep(b, false)
}

// BenchmarkCheckParallel is BenchmarkCheck on every core (GOMAXPROCS), for the throughput figure.
func BenchmarkCheckParallel(b *testing.B) {
	doc := benchDoc(b, benchRunbook(benchSteps))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			Check("bench.yaml", doc)
		}
	})
	reportPerStep(b, true)
}

// BenchmarkCheckInvalid checks the same runbook with one error in its last
// step: the library path, converting and validating everything.
func BenchmarkCheckInvalid(b *testing.B) {
	src := benchRunbook(benchSteps) + "    retires: 3\n"
	doc := benchDoc(b, src)
	if l := Check("bench.yaml", doc); len(l) != 1 {
		b.Fatalf("want one finding, got:\n%v", l)
	}
	b.ReportAllocs()
	for b.Loop() {
		Check("bench.yaml", doc)
	}
	reportPerStep(b, false)
}
