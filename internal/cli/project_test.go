package cli

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/redact"
)

const slowRunbook = `apiVersion: runbook/v1
kind: Runbook
metadata: {name: slow}
steps:
  - {id: hold, uses: wait, with: {duration: 4s}}
  - {id: gate, needs: [hold], uses: approval, with: {message: "go on?"}}
  - {id: done, needs: [gate], uses: log, with: {message: "finished"}}
`

// project makes a project: runbooks/slow.yaml and an empty docs/deep/
// subfolder, and returns the root.
func project(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"runbooks", "docs/deep"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "runbooks", "slow.yaml"), []byte(slowRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestOneProjectWhereverYouStand runs the commands from a subfolder: they
// find the runbooks, the state and the lock of the project root.
func TestOneProjectWhereverYouStand(t *testing.T) {
	root := project(t)
	sub := filepath.Join(root, "docs", "deep")
	env := []string{"RUNBOOK_STATE="}
	for _, args := range [][]string{{"validate"}, {"list"}, {"graph", "slow"}} {
		if code, out, errOut := cli(t, sub, env, args...); code != ExitOK {
			t.Errorf("%v from a subfolder: exit %d\n%s\n%s", args, code, out, errOut)
		}
	}
	if code, out, _ := cli(t, sub, env, "validate"); code != ExitOK || out != "" {
		t.Errorf("validate from a subfolder: exit %d, %q", code, out)
	}
	// A run started at the root holds the lock a run from the subfolder needs.
	first := runbookCmd(root, env, "run", "slow")
	stdout, err := first.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	// Once its first step has started, the first run holds the lock.
	lines := bufio.NewScanner(stdout)
	for lines.Scan() && !strings.Contains(lines.Text(), "start   hold") {
	}
	go io.Copy(io.Discard, stdout)
	code, out, errOut := cli(t, sub, env, "run", "slow")
	if code != ExitLocked {
		t.Errorf("a second run from a subfolder: exit %d, want %d (locked)\n%s\n%s", code, ExitLocked, out, errOut)
	}
	if err := first.Wait(); err == nil {
		t.Fatal("the first run should pause at its approval (exit 3)")
	}
	if _, err := os.Stat(filepath.Join(sub, DefaultStateDir)); err == nil {
		t.Error("a state folder was made in the subfolder")
	}
	// Resumed from another folder by `latest`, the run finds its runbook.
	code, out, errOut = cli(t, sub, env, "resume", "latest", "--approve", "gate")
	if code != ExitOK || !strings.Contains(out, "finished") {
		t.Errorf("resume latest from a subfolder: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestResolveRun(t *testing.T) {
	store := journal.Folder(t.TempDir())
	ctx := context.Background()
	ids := []string{"20261203T032057Z-one-60ecd5", "20261203T032158Z-one-7a1b2c", "20261204T010000Z-neon-pitr-60ecff"}
	for _, id := range ids {
		log, err := store.Create(ctx, id, redact.New())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := log.Write(journal.Event{Type: journal.RunStarted, Run: id}, true); err != nil {
			t.Fatal(err)
		}
		log.Close()
	}
	tests := []struct {
		typed, want, wantErr string
	}{
		{typed: ids[0], want: ids[0]},
		{typed: "latest", want: ids[2]},
		{typed: "7a1b2c", want: ids[1]},
		{typed: "20261204", want: ids[2]},
		{typed: "neon-pitr-60ecff", want: ids[2]},
		{typed: "20261203", wantErr: "matches 2 runs"},
		{typed: "nope", wantErr: `no run "nope"`},
	}
	for _, tt := range tests {
		got, err := resolveRun(ctx, store, tt.typed)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: %q, %v; want error %q", tt.typed, got, err, tt.wantErr)
			}
		case err != nil || got != tt.want:
			t.Errorf("%q: %q, %v; want %q", tt.typed, got, err, tt.want)
		}
	}
}
