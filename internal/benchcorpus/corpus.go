// Package benchcorpus generates runbooks of a fixed shape for benchmarks:
// every step has a guard, explicit needs and ${{ steps.X.outputs.Y }}
// references, like a real DR runbook but larger.
package benchcorpus

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Runbook returns runbook number i with the given number of steps.
func Runbook(i, steps int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: runbook/v1\nkind: Runbook\nmetadata:\n  name: bench-%03d\n  title: Benchmark runbook %d\n  section: \"9.%d\"\n", i, i, i)
	b.WriteString("objectives: { rto: 4h, rpo: 1h }\n")
	b.WriteString("params:\n  threshold: { type: int, default: 3 }\n  region: { type: string, enum: [oregon, frankfurt], default: oregon }\n  restore_to: { type: timestamp, required: true }\n")
	b.WriteString("secrets: [API_KEY]\nconcurrency: 4\ntimeout: 3h\nsteps:\n")
	for s := 0; s < steps; s++ {
		fmt.Fprintf(&b, "  - id: step-%d\n", s)
		fmt.Fprintf(&b, "    name: Step %d of ${{ run.runbook }}\n", s)
		switch {
		case s == 0:
			b.WriteString("    needs: []\n    uses: log\n    with: { message: \"start in ${{ params.region }}\" }\n")
			continue
		case s%5 == 0:
			fmt.Fprintf(&b, "    needs: [step-%d, step-%d]\n", s-1, s-5)
		default:
			fmt.Fprintf(&b, "    needs: [step-%d]\n", s-1)
		}
		fmt.Fprintf(&b, "    when: steps.step-%d.status == \"succeeded\" && params.threshold > %d || params.restore_to > now() - objectives.rpo\n", s-1, s%7)
		// Reference the nearest earlier log step (assert steps have no outputs).
		ref := s - 1
		if ref%3 == 0 && ref > 0 {
			ref--
		}
		if s%3 == 0 {
			fmt.Fprintf(&b, "    uses: assert\n    with:\n      that: ${{ steps.step-%d.outputs.message != \"\" }}\n      message: step %d said nothing\n", ref, ref)
		} else {
			fmt.Fprintf(&b, "    uses: log\n    with:\n      message: \"after ${{ steps.step-%d.outputs.message }} at ${{ params.restore_to }}\"\n", ref)
			b.WriteString("    check: outputs.message != \"\"\n")
		}
		if s%4 == 0 {
			b.WriteString("    timeout: 5m\n    retry: { attempts: 3, delay: 1s, backoff: exponential, max_delay: 30s }\n")
		}
	}
	return []byte(b.String())
}

// Write writes n runbooks of steps steps each into dir and returns their paths.
func Write(dir string, n, steps int) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	paths := make([]string, n)
	for i := range paths {
		paths[i] = filepath.Join(dir, fmt.Sprintf("bench-%03d.yaml", i))
		if err := os.WriteFile(paths[i], Runbook(i, steps), 0o644); err != nil {
			return nil, err
		}
	}
	return paths, nil
}
