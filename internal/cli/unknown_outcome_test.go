package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRerunNeedsItsOwnApproval: a step whose plugin died after its side
// effect, and cannot tell whether it took effect, is not run again by
// --yes, neither in the run nor on resume; only --approve STEP runs it.
func TestRerunNeedsItsOwnApproval(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec.jsonl")
	rb := "apiVersion: runbook/v1\nkind: Runbook\nmetadata: {name: once}\nplugins:\n  test: {record_file: " + rec + "}\nsteps:\n" +
		"  - {id: write, uses: test.record, confirm: \"write?\", retry: {attempts: 3, delay: 1ms}, with: {value: 1, crash_after: true, reconcile_unknown: true}}\n"
	os.WriteFile(filepath.Join(dir, "once.yaml"), []byte(rb), 0o644)
	records := func() int { b, _ := os.ReadFile(rec); return strings.Count(string(b), "\n") }
	code, _, errOut := cli(t, dir, nil, "run", "once.yaml", "--yes")
	if code != ExitPaused || !strings.Contains(errOut, "--approve write") {
		t.Fatalf("run --yes: exit %d, want %d naming --approve write\n%s", code, ExitPaused, errOut)
	}
	if n := records(); n != 1 {
		t.Fatalf("%d side effects after the run, want 1", n)
	}
	if code, _, errOut := cli(t, dir, nil, "resume", "latest", "--yes"); code != ExitPaused || records() != 1 {
		t.Fatalf("resume --yes ran the step again or did not pause: exit %d, %d records\n%s", code, records(), errOut)
	}
	if code, out, errOut := cli(t, dir, nil, "resume", "latest", "--approve", "write"); code != ExitOK || records() != 2 {
		t.Fatalf("resume --approve write: exit %d, %d records\n%s\n%s", code, records(), out, errOut)
	}
}
