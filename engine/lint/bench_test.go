package lint

import (
	"testing"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/internal/benchcorpus"
)

func TestCorpusIsClean(t *testing.T) {
	src := benchcorpus.Runbook(7, 50)
	_, diags := Bytes("bench-007.yaml", src, catalog.MustNew())
	for _, d := range diags {
		t.Errorf("benchmark corpus finding: %s", d)
	}
}

// BenchmarkValidateCorpus lints 200 runbooks of 50 steps from disk, in parallel,
// as `runbook validate` does, and reports steps per second.
func BenchmarkValidateCorpus(b *testing.B) {
	const n, steps = 200, 50
	files, err := benchcorpus.Write(b.TempDir(), n, steps)
	if err != nil {
		b.Fatal(err)
	}
	cat := catalog.MustNew()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Files(files, cat)
		if err != nil {
			b.Fatal(err)
		}
		if e, _ := res.Diags.Count(); e > 0 {
			b.Fatalf("corpus has findings: %v", res.Diags[0])
		}
	}
	b.ReportMetric(float64(n*steps*b.N)/b.Elapsed().Seconds(), "steps/s")
}

// BenchmarkLintOne lints one 50-step runbook on one goroutine.
func BenchmarkLintOne(b *testing.B) {
	src := benchcorpus.Runbook(1, 50)
	cat := catalog.MustNew()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Bytes("bench-001.yaml", src, cat)
	}
	b.ReportMetric(float64(50*b.N)/b.Elapsed().Seconds(), "steps/s")
}
