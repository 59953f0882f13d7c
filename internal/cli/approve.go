package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/redact"
	"github.com/alpha-orion/runbook/engine/run"
	"github.com/spf13/pflag"
)

func approveCmd() *subcommand {
	return &subcommand{
		name:    "approve",
		summary: "Approve the step a paused run waits on, from anywhere that sees its state",
		usage:   "approve [flags] RUN_ID STEP",
		examples: `  runbook approve 20240520T101500Z-neon-pitr-3f9a1c restore --as alice
  RUNBOOK_STATE=postgres://runbook@state-db/runbook runbook approve 20240520T101500Z-neon-pitr-3f9a1c restore
  runbook resume 20240520T101500Z-neon-pitr-3f9a1c    # then, from any machine: no --approve needed`,
		run: runApprove,
	}
}

func approveFlags(fs *pflag.FlagSet) (state, as *string) {
	return fs.String("state", "", stateUsage), fs.String("as", "", "who approves, for the journal (default: the OS user)")
}

func init() {
	flagSets["approve"] = func(fs *pflag.FlagSet) { approveFlags(fs) }
}

// runApprove journals an approval_granted event bound to the digest the run
// journaled when it asked: a resume reuses it only while the step, its kind,
// message and resolved inputs are exactly what was asked about.
func runApprove(c *Command, args []string) int {
	s := c.find("approve")
	fs := pflag.NewFlagSet("approve", pflag.ContinueOnError)
	state, as := approveFlags(fs)
	if done, code := c.parse(s, fs, args); done {
		return code
	}
	if fs.NArg() != 2 {
		return c.usageError("approve takes two arguments: RUN_ID STEP")
	}
	runID, step, user := fs.Arg(0), fs.Arg(1), whoami(*as)
	ctx := context.Background()
	store, err := c.openStore(ctx, *state)
	if err != nil {
		return c.usageError("approve: %v", err)
	}
	defer store.Close()
	rp, _, err := pendingApproval(ctx, store, runID, step)
	if err != nil {
		return c.usageError("approve: %v", err)
	}
	// Under the runbook's lock no resume of the run can write meanwhile.
	host, _ := os.Hostname()
	lock, err := store.Acquire(ctx, journal.Holder{Run: runID, User: user, Host: host, PID: os.Getpid(), Runbook: rp.Runbook})
	var locked *journal.LockedError
	if errors.As(err, &locked) {
		fmt.Fprintf(c.Stderr, "runbook: approve: %v; approve once it stops\n", err)
		return ExitLocked
	} else if err != nil {
		return c.usageError("approve: %v", err)
	}
	defer lock.Release()
	rp, req, err := pendingApproval(ctx, store, runID, step) // again: it may have changed
	if err != nil {
		return c.usageError("approve: %v", err)
	}
	log, err := store.Append(ctx, runID, rp.LastSeq, redact.New())
	if err != nil {
		return c.usageError("approve: %v", err)
	}
	_, err = log.Write(journal.Event{Type: journal.ApprovalGranted, Step: step, Kind: req.Kind, By: user, Digest: req.Digest, Message: req.Message}, true)
	if cerr := log.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return c.usageError("approve: %v", err)
	}
	fmt.Fprintf(c.Stdout, "approved %s of step %s in run %s as %s (digest %.12s):\n%s\nTo continue: runbook resume %s\n",
		req.Kind, step, runID, user, req.Digest, indent(req.Message), runID)
	return ExitOK
}

// pendingApproval reads a run and returns the approval request its step
// waits on: the last approval_requested for the step that no approval,
// start or end of the step has answered since.
func pendingApproval(ctx context.Context, store journal.Store, runID, step string) (*run.Replayed, journal.Event, error) {
	runID, err := resolveRun(ctx, store, runID)
	if err != nil {
		return nil, journal.Event{}, err
	}
	events, err := store.Read(ctx, runID)
	if err != nil {
		return nil, journal.Event{}, err
	}
	rp, err := run.Replay(events)
	if err != nil {
		return nil, journal.Event{}, fmt.Errorf("run %s: %w", runID, err)
	}
	if rp.Status == journal.StatusSucceeded {
		return rp, journal.Event{}, fmt.Errorf("run %s already succeeded", runID)
	}
	pending := map[string]journal.Event{}
	for _, e := range events {
		switch e.Type {
		case journal.ApprovalRequested:
			pending[e.Step] = e
		case journal.ApprovalGranted, journal.StepStarted, journal.StepSucceeded, journal.StepFailed, journal.StepSkipped:
			delete(pending, e.Step)
		}
	}
	req, ok := pending[step]
	if !ok {
		var waiting []string
		for id := range pending {
			waiting = append(waiting, id)
		}
		sort.Strings(waiting)
		if len(waiting) == 0 {
			return rp, req, fmt.Errorf("run %s (%s) waits on no approval", runID, rp.Status)
		}
		return rp, req, fmt.Errorf("run %s does not wait on an approval of step %q; it waits on: %s", runID, step, strings.Join(waiting, ", "))
	}
	return rp, req, nil
}
