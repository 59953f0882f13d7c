package benchcorpus

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Workflow returns GitHub Actions workflow number i with one job of the
// given number of steps, shaped like Runbook's for actionlint to read:
// every step has an id, a guard on the previous step's outcome and a
// ${{ steps.X.outputs.Y }} reference.
func Workflow(i, steps int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "name: Benchmark workflow %d\non:\n  workflow_dispatch:\n    inputs:\n      region:\n        type: choice\n        options: [oregon, frankfurt]\n        default: oregon\n      threshold:\n        type: number\n        default: 3\n", i)
	b.WriteString("concurrency: bench\njobs:\n  recover:\n    runs-on: ubuntu-latest\n    timeout-minutes: 180\n    steps:\n")
	for s := 0; s < steps; s++ {
		fmt.Fprintf(&b, "      - id: step-%d\n        name: Step %d of ${{ github.workflow }}\n", s, s)
		if s == 0 {
			b.WriteString("        run: echo \"message=start in ${{ inputs.region }}\" >> \"$GITHUB_OUTPUT\"\n")
			continue
		}
		fmt.Fprintf(&b, "        if: steps.step-%d.outcome == 'success' && inputs.threshold > %d || github.event_name == 'workflow_dispatch'\n", s-1, s%7)
		fmt.Fprintf(&b, "        env:\n          PREVIOUS: ${{ steps.step-%d.outputs.message }}\n          API_KEY: ${{ secrets.API_KEY }}\n", s-1)
		fmt.Fprintf(&b, "        run: echo \"message=after $PREVIOUS in ${{ inputs.region }}\" >> \"$GITHUB_OUTPUT\"\n")
		if s%4 == 0 {
			b.WriteString("        timeout-minutes: 5\n        continue-on-error: true\n")
		}
	}
	return []byte(b.String())
}

// Taskfile returns a go-task Taskfile with one task that runs one command,
// the peer of a one-step runbook.
func Taskfile() []byte {
	return []byte("version: '3'\ntasks:\n  default:\n    cmds:\n      - cmd: echo hello\n        silent: true\n")
}

// WriteWorkflows writes n workflows of steps steps each into dir.
func WriteWorkflows(dir string, n, steps int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("bench-%03d.yml", i)), Workflow(i, steps), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Long returns one runbook of the given number of log steps in a chain,
// every tenth guarded on the previous one's output, written compactly so
// that 10,000 steps fit the loader's size limit: the run-time memory
// benchmark.
func Long(steps int) []byte {
	var b strings.Builder
	b.WriteString("apiVersion: runbook/v1\nkind: Runbook\nmetadata: {name: long}\nsteps:\n")
	for s := 0; s < steps; s++ {
		if s == 0 {
			b.WriteString("- {id: s0, uses: log, with: {message: m0}}\n")
			continue
		}
		if s%10 == 0 {
			fmt.Fprintf(&b, "- {id: s%d, needs: [s%d], when: 'steps.s%d.outputs.message != \"\"', uses: log, with: {message: m%d}}\n", s, s-1, s-1, s)
			continue
		}
		fmt.Fprintf(&b, "- {id: s%d, needs: [s%d], uses: log, with: {message: m%d}}\n", s, s-1, s)
	}
	return []byte(b.String())
}
