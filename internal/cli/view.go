package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/alpha-orion/runbook/engine/eval"
	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/redact"
	"github.com/alpha-orion/runbook/engine/run"
)

// view prints a run's events as they happen: text lines for people, or JSON lines for machines.
type view struct {
	mu     sync.Mutex
	w      io.Writer
	json   bool
	redact *redact.Redactor
	start  time.Time
	rto    time.Duration
	width  int

	// live redraws a status line under the event lines (on a terminal).
	live    bool
	total   int
	done    map[string]bool
	running map[string]runningStep
	stopped chan struct{}
}

// runningStep is a step in flight, for the live status line.
type runningStep struct {
	attempt int
	since   time.Time
}

func newView(w io.Writer, format string, r *redact.Redactor, rto time.Duration, stepIDs []string) *view {
	width := 8
	for _, id := range stepIDs {
		width = max(width, len(id))
	}
	return &view{w: r.Writer(w), json: format == "json", redact: r, rto: rto, width: width,
		total: len(stepIDs), done: map[string]bool{}, running: map[string]runningStep{}}
}

// startLive turns on the status line, redrawn every second until stopLive.
func (v *view) startLive() {
	if v.json {
		return
	}
	v.live = true
	v.stopped = make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-v.stopped:
				return
			case <-t.C:
				v.mu.Lock()
				v.status()
				v.mu.Unlock()
			}
		}
	}()
}

// stopLive clears the status line.
func (v *view) stopLive() {
	if !v.live {
		return
	}
	close(v.stopped)
	v.mu.Lock()
	v.live = false
	io.WriteString(v.w, "\r\x1b[K")
	v.mu.Unlock()
}

// status draws the live line: what runs, for how long, and the run against its RTO.
func (v *view) status() {
	if !v.live || v.start.IsZero() {
		return
	}
	now := time.Now()
	ids := make([]string, 0, len(v.running))
	for id := range v.running {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var parts []string
	for _, id := range ids {
		r := v.running[id]
		parts = append(parts, fmt.Sprintf("%s (attempt %d, %s)", id, r.attempt, now.Sub(r.since).Round(time.Second)))
	}
	line := fmt.Sprintf("%d/%d done", len(v.done), v.total)
	if len(parts) > 0 {
		line += " · running " + strings.Join(parts, ", ")
	}
	elapsed := now.Sub(v.start).Round(time.Second)
	line += fmt.Sprintf(" · %s", elapsed)
	if v.rto > 0 {
		line += fmt.Sprintf(" of RTO %s", eval.ShortDuration(v.rto))
	}
	fmt.Fprintf(v.w, "\r\x1b[K\x1b[7m %s \x1b[0m", line)
}

// track updates the live state from an event.
func (v *view) track(e journal.Event) {
	switch e.Type {
	case journal.StepStarted:
		v.running[e.Step] = runningStep{attempt: e.Attempt, since: e.Time}
	case journal.StepSucceeded, journal.StepFailed, journal.StepSkipped:
		delete(v.running, e.Step)
		v.done[e.Step] = true
	case journal.ApprovalRequested, journal.RunPaused, journal.RunFinished:
		delete(v.running, e.Step)
	}
}

func (v *view) event(e journal.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.json {
		data, err := json.Marshal(e)
		if err == nil {
			v.w.Write(append(data, '\n'))
		}
		return
	}
	if v.start.IsZero() || e.Type == journal.RunStarted {
		v.start = e.Time
	}
	v.track(e)
	line := v.text(e)
	if line == "" {
		return
	}
	if v.live {
		io.WriteString(v.w, "\r\x1b[K")
		defer v.status()
	}
	elapsed := e.Time.Sub(v.start).Round(100 * time.Millisecond)
	clock := fmt.Sprintf("%s +%s", e.Time.Local().Format("15:04:05"), elapsed)
	if v.rto > 0 {
		clock += fmt.Sprintf(" (%d%% of RTO)", int(100*elapsed/v.rto))
	}
	fmt.Fprintf(v.w, "%-32s %s\n", clock, line)
}

func (v *view) step(verb, id, rest string) string {
	return fmt.Sprintf("%-7s %-*s %s", verb, v.width, id, rest)
}

func (v *view) text(e journal.Event) string {
	switch e.Type {
	case journal.RunStarted:
		rto := ""
		if e.RTO != "" {
			rto = ", RTO " + e.RTO
		}
		return fmt.Sprintf("run %s of %s started by %s%s", e.Run, e.Runbook, e.User, rto)
	case journal.RunResumed:
		return fmt.Sprintf("run resumed by %s (%s)", e.By, e.Message)
	case journal.StepStarted:
		return v.step("start", e.Step, fmt.Sprintf("%s (attempt %d)", e.Action, e.Attempt))
	case journal.StepLog:
		return v.step("log", e.Step, e.Message)
	case journal.StepRetrying:
		return v.step("retry", e.Step, fmt.Sprintf("attempt %d failed (%s): %s; next in %s", e.Attempt, e.Kind, e.Message, time.Duration(e.DelayMS)*time.Millisecond))
	case journal.StepSucceeded:
		return v.step("ok", e.Step, fmt.Sprintf("in %s", time.Duration(e.DurationMS)*time.Millisecond))
	case journal.StepFailed:
		return v.step("FAILED", e.Step, fmt.Sprintf("(%s) %s", e.Kind, e.Message))
	case journal.StepSkipped:
		return v.step("skip", e.Step, e.Message)
	case journal.StepReconciled:
		return v.step("recon", e.Step, fmt.Sprintf("in flight at the crash; plugin says %s %s", e.State, e.Message))
	case journal.ApprovalRequested:
		return v.step("wait", e.Step, fmt.Sprintf("needs %s: %s", e.Kind, firstLine(e.Message)))
	case journal.ApprovalGranted:
		return v.step("approve", e.Step, fmt.Sprintf("%s approved by %s", e.Kind, e.By))
	case journal.UndoStarted:
		return v.step("undo", e.Step, e.Action)
	case journal.UndoSucceeded:
		return v.step("undone", e.Step, "")
	case journal.UndoFailed:
		return v.step("UNDO!", e.Step, "undo failed: "+e.Message)
	case journal.PhaseStarted:
		return "── " + e.Phase
	case journal.RunPaused:
		return "run paused: step " + e.Step + " waits for " + e.Kind
	case journal.RunFinished:
		return "run " + e.Status
	}
	return ""
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// summary prints each step's outcome after the run.
func (v *view) summary(res *run.Result, rto time.Duration) {
	if v.json {
		return
	}
	fmt.Fprintln(v.w)
	tw := tabwriter.NewWriter(v.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tSTATUS\tATTEMPTS\tDURATION\tNOTE")
	ids := make([]string, 0, len(res.Steps))
	for id := range res.Steps {
		ids = append(ids, id)
	}
	pos := map[string]int{}
	for i, id := range res.Order {
		pos[id] = i + 1
	}
	sort.Slice(ids, func(i, j int) bool {
		pi, pj := pos[ids[i]], pos[ids[j]]
		if (pi == 0) != (pj == 0) {
			return pj == 0
		}
		if pi != pj {
			return pi < pj
		}
		return ids[i] < ids[j]
	})
	for _, id := range ids {
		st := res.Steps[id]
		d := ""
		if !st.Started.IsZero() && !st.Ended.IsZero() {
			d = st.Ended.Sub(st.Started).Round(time.Millisecond).String()
		}
		status := st.Status
		if status == journal.StatusPending && res.Status != journal.StatusPaused {
			status = "not run"
		}
		note := st.Err
		if st.Undone {
			note = strings.TrimSpace("undone " + note)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", id, status, st.Attempts, d, v.redact.String(firstLine(note)))
	}
	tw.Flush()
	line := fmt.Sprintf("\nrun %s %s in %s", res.RunID, res.Status, res.Elapsed.Round(time.Millisecond))
	if rto > 0 {
		line += fmt.Sprintf(" (RTO %s: %d%% used)", eval.ShortDuration(rto), int(100*res.Elapsed/rto))
	}
	fmt.Fprintln(v.w, line)
}
