package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/alpha-orion/runbook/engine/run"
)

// approver answers the engine's approval requests: --yes, --approve ID, or
// a prompt on a terminal; without one the run pauses (exit 3). Given by
// a flag or by a person, an approval always shows the step's whole text:
// --yes approves, it does not silence a manual step's instructions.
type approver struct {
	mu       sync.Mutex
	user     string
	all      bool
	ids      map[string]bool
	terminal bool
	in       *bufio.Reader
	out      io.Writer
	// hold, when set, keeps the live status line off while a question
	// is on screen, and returns what turns it back on.
	hold func() (release func())
}

func (a *approver) Approve(ctx context.Context, req run.ApprovalRequest) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.hold != nil {
		defer a.hold()()
	}
	// Running again a step whose outcome nobody knows needs this step's
	// own approval: --yes does not cover it.
	if a.all && req.Kind != "rerun" || a.ids[req.Step] {
		how := "--yes"
		if a.ids[req.Step] {
			how = "--approve " + req.Step
		}
		fmt.Fprintf(a.out, "\n── %s: step %s, approved by %s as %s\n%s\n", req.Kind, req.Step, how, a.user, indent(printable(req.Message)))
		return a.user, nil
	}
	if !a.terminal || a.in == nil {
		return "", run.ErrNeedsApproval
	}
	fmt.Fprintf(a.out, "\n── approval needed: step %s (%s)\n%s\n", req.Step, req.Kind, indent(printable(req.Message)))
	if len(req.Inputs) > 0 {
		keys := make([]string, 0, len(req.Inputs))
		for k := range req.Inputs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(a.out, "    %s: %s\n", k, printable(fmt.Sprint(req.Inputs[k])))
		}
	}
	fmt.Fprintf(a.out, "Approve as %s? [y/N] ", a.user)
	type answer struct {
		s   string
		err error
	}
	ch := make(chan answer, 1)
	go func() { s, err := a.in.ReadString('\n'); ch <- answer{s, err} }()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case ans := <-ch:
		if ans.err != nil && ans.s == "" {
			return "", run.ErrNeedsApproval
		}
		switch strings.ToLower(strings.TrimSpace(ans.s)) {
		case "y", "yes":
			return a.user, nil
		}
		return "", run.ErrDenied
	}
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
