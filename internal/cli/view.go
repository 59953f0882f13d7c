package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/redact"
	"github.com/alpha-orion/runbook/engine/run"
	"github.com/alpha-orion/runbook/plugins/sdk"
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
	// held counts the questions being asked: while one is, the line is
	// neither drawn nor cleared, so it never hides a prompt.
	live    bool
	held    int
	styled  bool       // reverse video, unless NO_COLOR is set
	columns func() int // the terminal's width, read at each redraw
	lists   [][]string // step ids by list: steps, on_failure, finally
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

func newView(w io.Writer, format string, r *redact.Redactor, rto time.Duration, lists [][]string) *view {
	width, total := 8, 0
	for _, l := range lists {
		for _, id := range l {
			width = max(width, len(id))
		}
		total += len(l)
	}
	return &view{w: r.Writer(w), json: format == "json", redact: r, rto: rto, width: width, lists: lists,
		total: total, done: map[string]bool{}, running: map[string]runningStep{}}
}

// startLive turns on the status line, redrawn every second until
// stopLive, when c's output is a terminal that can draw one: not for
// TERM=dumb, and without styling under NO_COLOR.
func (c *Command) startLive(v *view) {
	if v.json || !c.IsTerminal {
		return
	}
	if term := c.Getenv("TERM"); term == "dumb" || term == "" {
		return
	}
	v.styled = c.Getenv("NO_COLOR") == ""
	v.columns = c.columns
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
	if v.held == 0 {
		io.WriteString(v.w, "\r\x1b[K")
	}
	v.mu.Unlock()
}

// hold clears the status line and keeps it off until the returned
// release is called: the approver holds it while it asks a question.
func (v *view) hold() (release func()) {
	v.mu.Lock()
	if v.live && v.held == 0 {
		io.WriteString(v.w, "\r\x1b[K")
	}
	v.held++
	v.mu.Unlock()
	return func() {
		v.mu.Lock()
		v.held--
		v.mu.Unlock()
	}
}

// status draws the live line: what runs, for how long, and the run against its RTO.
func (v *view) status() {
	if !v.live || v.held > 0 || v.start.IsZero() {
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
		parts = append(parts, fmt.Sprintf("%s (attempt %d, %s)", id, r.attempt, humanDuration(now.Sub(r.since).Round(time.Second))))
	}
	line := fmt.Sprintf("%d/%d done", len(v.done), v.total)
	if len(parts) > 0 {
		line += " · running " + strings.Join(parts, ", ")
	}
	line += " · " + humanDuration(now.Sub(v.start).Round(time.Second))
	if v.rto > 0 {
		line += " of RTO " + humanDuration(v.rto)
	}
	// Two columns spare: a line as wide as the terminal wraps on some.
	line = fit(printable(" "+line+" "), v.columns()-2)
	if v.styled {
		line = "\x1b[7m" + line + "\x1b[0m"
	}
	fmt.Fprintf(v.w, "\r\x1b[K%s", line)
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
		v.writeJSON(e)
		return
	}
	if v.start.IsZero() || e.Type == journal.RunStarted {
		v.start = e.Time
	}
	v.track(e)
	line := printable(v.text(e))
	if line == "" {
		return
	}
	if v.live && v.held == 0 {
		io.WriteString(v.w, "\r\x1b[K")
		defer v.status()
	}
	elapsed := e.Time.Sub(v.start).Round(100 * time.Millisecond)
	clock := fmt.Sprintf("%s +%s", e.Time.Local().Format("15:04:05"), humanDuration(elapsed))
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
		return v.step("retry", e.Step, fmt.Sprintf("attempt %d failed (%s): %s; next in %s", e.Attempt, e.Kind, e.Message, humanDuration(time.Duration(e.DelayMS)*time.Millisecond)))
	case journal.StepSucceeded:
		return v.step("ok", e.Step, "in "+humanDuration(time.Duration(e.DurationMS)*time.Millisecond))
	case journal.StepFailed:
		if e.Kind == string(sdk.KindCanceled) {
			return v.step("cancel", e.Step, "cancelled: "+e.Message)
		}
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

// summary prints each step's outcome after the run: list by list (steps,
// on_failure, finally), within a list in the order the steps finished,
// then those that never finished in the runbook's order.
func (v *view) summary(res *run.Result, rto time.Duration) {
	if v.json {
		return
	}
	fmt.Fprintln(v.w)
	tw := tabwriter.NewWriter(v.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tSTATUS\tATTEMPTS\tDURATION\tNOTE")
	pos := map[string]int{}
	for i, id := range res.Order {
		pos[id] = i + 1
	}
	for li, list := range v.lists {
		ids := slices.Clone(list)
		decl := map[string]int{}
		for i, id := range list {
			decl[id] = i
		}
		sort.SliceStable(ids, func(i, j int) bool {
			pi, pj := pos[ids[i]], pos[ids[j]]
			if (pi == 0) != (pj == 0) {
				return pj == 0
			}
			if pi != pj {
				return pi < pj
			}
			return decl[ids[i]] < decl[ids[j]]
		})
		if li > 0 && len(ids) > 0 {
			fmt.Fprintf(tw, "%s:\t\t\t\t\n", []string{"steps", "on_failure", "finally"}[min(li, 2)])
		}
		for _, id := range ids {
			st := res.Steps[id]
			if st == nil {
				continue
			}
			d := ""
			if !st.Started.IsZero() && !st.Ended.IsZero() {
				d = humanDuration(st.Ended.Sub(st.Started))
			}
			status := st.Status
			switch {
			case status == journal.StatusPending && res.Status == journal.StatusCancelled && st.Attempts > 0:
				status = "cancelled"
			case status == journal.StatusPending && res.Status != journal.StatusPaused:
				status = "not run"
			}
			note := st.Err
			if st.Undone {
				note = strings.TrimSpace("undone " + note)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", id, status, st.Attempts, d, printable(v.redact.String(firstLine(note))))
		}
	}
	tw.Flush()
	line := fmt.Sprintf("\nrun %s %s in %s", res.RunID, res.Status, humanDuration(res.Elapsed))
	if rto > 0 {
		line += fmt.Sprintf(" (RTO %s: %d%% used)", humanDuration(rto), int(100*res.Elapsed/rto))
	}
	fmt.Fprintln(v.w, line)
}

// StreamSchemaVersion is the version of the JSON event stream's contract,
// docs/events.md.
const StreamSchemaVersion = 1

// streamEvent is one line of the JSON event stream.
type streamEvent struct {
	SchemaVersion int `json:"schema_version"`
	journal.Event
}

// writeJSON prints e as one line of the stream: versioned, and with
// durations inside inputs, outputs and params written as text.
func (v *view) writeJSON(e journal.Event) {
	e.Inputs, e.Outputs, e.Params = durationsAsText(e.Inputs), durationsAsText(e.Outputs), durationsAsText(e.Params)
	data, err := json.Marshal(streamEvent{SchemaVersion: StreamSchemaVersion, Event: e})
	if err == nil {
		v.w.Write(append(data, '\n'))
	}
}

// durationsAsText is catalog.DurationsAsText for a mapping.
func durationsAsText(m map[string]any) map[string]any {
	out, _ := catalog.DurationsAsText(m).(map[string]any)
	return out
}
