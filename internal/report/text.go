package report

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/alpha-orion/runbook/engine/eval"
)

// utc formats a time for reports: UTC, to the second.
func utc(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

// Summary is the one-line outcome: status, duration and RTO used.
func (r *Run) Summary() string {
	s := fmt.Sprintf("%s in %s", r.Status, Dur(r.Duration))
	if r.RTO > 0 {
		s += fmt.Sprintf(" (RTO %s: %d%% used)", eval.ShortDuration(r.RTO), r.RTOUsed())
	}
	return s
}

// RestoreText describes the restore point against the RPO, or "" without one.
func (r *Run) RestoreText() string {
	rp := r.Restore
	if rp == nil {
		return ""
	}
	s := fmt.Sprintf("restored to %s (%s), %s before the run started", utc(rp.At), rp.Source, Dur(rp.Loss))
	switch {
	case r.RPO <= 0:
		s += "; no RPO set"
	case rp.Within:
		s += fmt.Sprintf(": within the RPO of %s", eval.ShortDuration(r.RPO))
	default:
		s += fmt.Sprintf(": OUTSIDE the RPO of %s", eval.ShortDuration(r.RPO))
	}
	return s
}

// WriteText prints the run's timeline, approvals and outputs for a terminal.
func WriteText(w io.Writer, r *Run) error {
	fmt.Fprintf(w, "run %s of %s (%s)\n", r.ID, r.Runbook, r.File)
	fmt.Fprintf(w, "started %s by %s: %s\n", utc(r.Started), r.User, r.Summary())
	fmt.Fprintf(w, "runbook sha256 %s\n", r.Digest)
	if s := r.RestoreText(); s != "" {
		fmt.Fprintln(w, s)
	}
	if r.Pause != nil {
		fmt.Fprintf(w, "waiting for %s of step %s: runbook resume %s --approve %s\n", r.Pause.Kind, r.Pause.Step, r.ID, r.Pause.Step)
	}
	fmt.Fprintln(w, "\nTimeline:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  START\tDURATION\tSTEP\tPHASE\tSTATUS\tATTEMPTS\tERROR")
	for _, s := range r.Steps {
		start, d := "-", "-"
		if s.started {
			start, d = "+"+Dur(s.Start), Dur(s.Duration)
			if s.Open {
				d += "+"
			}
		}
		status := s.Status
		if s.Undone {
			status += " (undone)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%d\t%s\n", start, d, s.ID, s.Phase, status, s.Attempts, oneLine(s.Error))
	}
	tw.Flush()
	if len(r.Approvals) > 0 {
		fmt.Fprintln(w, "\nApprovals:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  AT\tSTEP\tKIND\tBY\tDIGEST")
		for _, a := range r.Approvals {
			fmt.Fprintf(tw, "  %s (+%s)\t%s\t%s\t%s\t%s\n", utc(a.At), Dur(a.Offset), a.Step, a.Kind, a.By, a.Digest)
		}
		tw.Flush()
	}
	if len(r.Problems) > 0 {
		fmt.Fprintln(w, "\nErrors:")
		for _, p := range r.Problems {
			fmt.Fprintf(w, "  +%s %s %s%s: %s\n", Dur(p.Offset), p.Step, p.What, kind(p.Kind), oneLine(p.Message))
		}
	}
	var any bool
	for _, s := range r.Steps {
		if len(s.Outputs) == 0 && len(s.Secret) == 0 {
			continue
		}
		if !any {
			fmt.Fprintln(w, "\nOutputs:")
			any = true
		}
		fmt.Fprintf(w, "  %s\n", s.ID)
		for _, o := range s.Outputs {
			fmt.Fprintf(w, "    %s: %s\n", o.Key, oneLine(o.Value))
		}
		for _, k := range s.Secret {
			fmt.Fprintf(w, "    %s: *** (secret, not journaled)\n", k)
		}
	}
	return nil
}

func kind(k string) string {
	if k == "" {
		return ""
	}
	return " (" + k + ")"
}
