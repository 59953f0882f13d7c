package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/alpha-orion/runbook/engine/eval"
	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/engine/run"
	"github.com/alpha-orion/runbook/internal/chaos"
	"github.com/alpha-orion/runbook/internal/sandbox"
	"github.com/alpha-orion/runbook/plugins/host"
	"github.com/spf13/pflag"
)

func init() { flagSets["drill"] = func(fs *pflag.FlagSet) { drillFlags(fs) } }

type drillOpts struct {
	dir, output  string
	state        string
	store        journal.Store // the configured state, where drills are journaled
	all          bool
	sabotage     string
	sabotageEach bool
	chaos        string // the seed of a game-day drill's faults, or ""
	seed         uint64 // chaos, parsed
}

func drillFlags(fs *pflag.FlagSet) *drillOpts {
	o := &drillOpts{}
	fs.StringVar(&o.dir, "dir", DefaultDir, "folder to find runbooks by name in")
	fs.BoolVar(&o.all, "all", false, "drill every runbook that has a drill scenario")
	fs.StringVarP(&o.output, "output", "o", "text", "text, or json for the event stream as JSON lines, a drill_report line ending each drill (docs/events.md)")
	fs.StringVar(&o.state, "state", "", "where drills are journaled, as runs are (default $RUNBOOK_STATE or "+DefaultStateDir+"): 'runbook history --drills' lists them")
	fs.StringVar(&o.sabotage, "sabotage", "", "make this world-changing step a no-op that reports its plan's outputs; the drill must then FAIL")
	fs.BoolVar(&o.sabotageEach, "sabotage-each", false, "sabotage every world-changing step of each runbook in turn and print the matrix; fails on a sabotage the drill does not catch")
	fs.StringVar(&o.chaos, "chaos", "", "a game day: inject the provider faults this seed plans (429s, 5xx, slow answers, dropped connections, DNS delay, a bad GCS checksum, an RPC restart); the runbook must reach its end state or fail safely")
	return o
}

func drillCmd() *subcommand {
	return &subcommand{
		name:    "drill",
		summary: "Rehearse a runbook end to end against local emulators of every provider",
		usage:   "drill [flags] NAME...|--all",
		examples: `  runbook drill neon-pitr     # stage the incident, run the runbook, check the end state
  runbook drill --all         # every runbook, as CI does
  runbook drill neon-pitr --sabotage restore   # must FAIL: proves the drill sees the restore
  runbook drill --all --sabotage-each          # the sabotage matrix, as CI does
  runbook drill --all --chaos 20261259         # a game day: provider faults from this seed, as CI does

A step changes the world when it calls a plugin action its catalogue entry
does not declare read-only; built-in actions and read-only ones (checks,
queries, terraform plan) are never sabotaged.`,
		run: runDrill,
	}
}

func runDrill(c *Command, args []string) int {
	fs := pflag.NewFlagSet("drill", pflag.ContinueOnError)
	o := drillFlags(fs)
	if done, code := c.parse(c.find("drill"), fs, args); done {
		return code
	}
	names := fs.Args()
	if o.all && len(names) > 0 {
		return c.usageError("drill: give runbook names or --all, not both")
	}
	if o.sabotage != "" && (o.sabotageEach || o.all || len(names) != 1) {
		return c.usageError("drill: --sabotage STEP takes one runbook name (use --sabotage-each for the matrix)")
	}
	if o.chaos != "" {
		if o.sabotage != "" || o.sabotageEach {
			return c.usageError("drill: --chaos and --sabotage do not mix: a sabotaged drill must fail, a game day may fail safely")
		}
		seed, err := parseSeed(o.chaos)
		if err != nil {
			return c.usageError("drill: %v", err)
		}
		o.seed = seed
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sb, code := c.startSandbox()
	if sb == nil {
		return code
	}
	defer sb.Close()
	drills, err := sb.Drills(ctx)
	if err != nil {
		fmt.Fprintf(c.Stderr, "runbook: drill: %v\n", err)
		return ExitFailed
	}
	var have []string
	for _, d := range drills {
		have = append(have, d.Runbook)
	}
	if o.all {
		names = have
	}
	if len(names) == 0 {
		return c.usageError("drill: name a runbook (%s) or pass --all", strings.Join(have, ", "))
	}
	for _, name := range names {
		if !slices.Contains(have, name) {
			return c.usageError("drill: no drill scenario for %q (have: %s)", name, strings.Join(have, ", "))
		}
	}
	store, err := c.openStore(ctx, o.state)
	if err != nil {
		return c.usageError("drill: %v", err)
	}
	defer store.Close()
	o.store = store
	if o.sabotageEach {
		return c.sabotageMatrix(ctx, sb, names, o)
	}
	human := c.Stdout
	if o.output == "json" {
		human = c.Stderr // stdout carries JSON lines only
	}
	if err := sb.Queue(ctx, names); err != nil {
		fmt.Fprintf(c.Stderr, "runbook: drill: %v\n", err)
		return ExitFailed
	}
	worst, passed := ExitOK, 0
	var rows []string
	for _, name := range names {
		start := time.Now()
		out := c.drillOne(ctx, sb, name, o, o.sabotage, c.Stdout)
		code := out.code
		verdict := "PASSED"
		if code != ExitOK {
			verdict = "FAILED"
		} else {
			passed++
		}
		if out.chaos != nil {
			verdict = out.chaos.String()
		}
		rows = append(rows, fmt.Sprintf("%s\t%s\t%s", name, verdict, time.Since(start).Round(100*time.Millisecond)))
		if code > worst {
			worst = code
		}
		if ctx.Err() != nil {
			break
		}
	}
	if len(names) > 1 {
		fmt.Fprintln(human, "\nDrills:")
		tw := tabwriter.NewWriter(human, 0, 4, 2, ' ', 0)
		for _, r := range rows {
			fmt.Fprintln(tw, "  "+r)
		}
		tw.Flush()
	}
	fmt.Fprintf(human, "drills: %d passed, %d failed\n", passed, len(rows)-passed)
	return worst
}

// startSandbox starts the executable that holds the drill's stand-ins.
func (c *Command) startSandbox() (*sandbox.Client, int) {
	path, err := host.FindExecutable(sandbox.ExecutableName, c.binDir())
	if err != nil {
		fmt.Fprintf(c.Stderr, "runbook: drill needs the sandbox of stand-ins: %v\n", err)
		return nil, ExitUsage
	}
	sb, err := sandbox.Start(path, c.Stderr)
	if err != nil {
		fmt.Fprintf(c.Stderr, "runbook: drill: %v\n", err)
		return nil, ExitFailed
	}
	return sb, ExitOK
}

// sabotageMatrix drills each runbook once per world-changing step, with
// that step sabotaged, and prints which sabotage each drill caught. One
// sandbox serves them all, one drill after another.
func (c *Command) sabotageMatrix(ctx context.Context, sb *sandbox.Client, names []string, o *drillOpts) int {
	type trial struct{ runbook, step string }
	var trials []trial
	var order []string
	for _, name := range names {
		file, err := findRunbook(name, c.runbookDir(o.dir))
		if err != nil {
			return c.usageError("drill: %v", err)
		}
		rb, _, err := load.ReadFile(file)
		if err != nil {
			return c.usageError("drill: cannot read %s: %v", file, err)
		}
		for _, step := range worldChanging(rb, c.catalog()) {
			trials = append(trials, trial{name, step})
			order = append(order, name)
		}
	}
	if err := sb.Queue(ctx, order); err != nil {
		fmt.Fprintf(c.Stderr, "runbook: drill: %v\n", err)
		return ExitFailed
	}
	var rows []matrixRow
	for _, tr := range trials {
		name, step := tr.runbook, tr.step
		var buf bytes.Buffer
		out := c.drillOne(ctx, sb, name, o, step, &buf)
		row := matrixRow{runbook: name, step: step, out: out}
		if row.hole() || out.code == ExitUsage {
			c.Stdout.Write(buf.Bytes()) // the evidence, for whoever fixes the hole
		}
		if out.code == ExitUsage {
			return ExitUsage
		}
		fmt.Fprintf(c.Stdout, "sabotage %s/%s: %s (%s)\n", name, step, row.verdict(), out.caughtBy())
		rows = append(rows, row)
		if ctx.Err() != nil {
			return ExitFailed
		}
	}
	if printMatrix(c.Stdout, rows) > 0 {
		return ExitFailed
	}
	return ExitOK
}

// drillOne stages, runs and verifies one drill, writing its report to w;
// sabotage, when set, names the step to make a no-op.
func (c *Command) drillOne(ctx context.Context, sb *sandbox.Client, name string, o *drillOpts, sabotage string, w io.Writer) drillOutcome {
	fail := func(code int) drillOutcome { return drillOutcome{code: code} }
	file, err := findRunbook(name, c.runbookDir(o.dir))
	if err != nil {
		return fail(c.usageError("drill: %v", err))
	}
	stream := w // the run's events
	if o.output == "json" {
		w = c.Stderr // what people read; stdout carries JSON lines only
	}
	fmt.Fprintf(w, "══ drill %s (%s)\n", name, file)
	var plan *chaos.Plan
	if o.chaos != "" {
		rb, _, err := load.ReadFile(file)
		if err != nil {
			return fail(c.usageError("drill: cannot read %s: %v", file, err))
		}
		plan = chaosPlan(o.seed, rb)
		if len(plan.Faults) == 0 {
			fmt.Fprintf(w, "chaos: seed %d: no fault planned for %s: its steps call no provider API the plan knows (Neon, Render, a GCS download, DNS, a chain)\n", plan.Seed, name)
		} else {
			fmt.Fprintf(w, "chaos: seed %d, %s planned for %s:\n", plan.Seed, plural(len(plan.Faults), "fault"), name)
		}
		for _, l := range plan.Lines() {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	st, err := sb.StageChaos(ctx, name, plan)
	if err != nil {
		var missing *sandbox.MissingError
		if errors.As(err, &missing) {
			fmt.Fprintf(c.Stderr, "runbook: drill %s needs %s: %v\n", name, missing.Program, err)
			return fail(ExitUsage)
		}
		fmt.Fprintf(c.Stderr, "runbook: drill %s: %v\n", name, err)
		return fail(ExitFailed)
	}
	defer sb.CloseDrill(context.WithoutCancel(ctx))
	for _, n := range st.Notes {
		fmt.Fprintf(w, "staged: %s\n", n)
	}
	defer setEnv(st.Env)()
	if st.StateDir == "" {
		fmt.Fprintf(c.Stderr, "runbook: drill %s: the sandbox gave no state folder\n", name)
		return fail(ExitFailed)
	}
	f := &runFlags{yes: true, as: "drill", output: o.output, state: st.StateDir}
	for k, v := range st.Params {
		f.params = append(f.params, k+"="+v)
	}
	sort.Strings(f.params)
	sess, code := c.prepare(file, f, nil, st.Secrets)
	if sess == nil {
		return fail(code)
	}
	sess.store = o.store // journaled where runs are, marked as a drill
	if sabotage != "" {
		if wc := worldChanging(sess.rb, sess.cat); !slices.Contains(wc, sabotage) {
			return fail(c.usageError("drill %s: --sabotage %q is not a world-changing step (have: %s)", name, sabotage, strings.Join(wc, ", ")))
		}
	}
	v := newView(stream, o.output, sess.redactor, sess.rb.Objectives.RTO.D, stepLists(sess.rb))
	m, err := c.host(ctx, sess, st.Overrides, io.Discard, nil)
	if err != nil {
		return fail(c.usageError("%v", err))
	}
	defer m.Close()
	if problems := c.preflight(ctx, sess, m, run.UsedPlugins(sess.rb)); len(problems) > 0 {
		reportPreflight(c.Stderr, problems)
		return fail(ExitFailed)
	}
	opts := c.options(sess, f, m, v)
	opts.Sleep = drillSleep
	opts.Drill = true
	var sab *sabotager
	if sabotage != "" {
		sab = &sabotager{Dispatcher: m, step: sabotage}
		opts.Dispatcher = sab
		fmt.Fprintf(w, "sabotage: step %s will do nothing and report its plan's outputs\n", sabotage)
	}
	res, err := run.Start(ctx, opts)
	if err != nil {
		fmt.Fprintf(c.Stderr, "runbook: drill %s: %s\n", name, sess.redactor.String(err.Error()))
		return fail(ExitFailed)
	}
	if o.output != "json" {
		v.summary(res, sess.rb.Objectives.RTO.D)
	}
	// The sandbox's checks read the journal as the store holds it (a
	// secret must never be in it): its events, exported to the drill's
	// scratch folder whatever the store is.
	if err := exportJournal(ctx, o.store, res.RunID, st.StateDir); err != nil {
		fmt.Fprintf(c.Stderr, "runbook: drill %s: %v\n", name, err)
		return fail(ExitFailed)
	}
	checks, hits, err := sb.VerifyChaos(ctx)
	if err != nil {
		fmt.Fprintf(c.Stderr, "runbook: drill %s: verify: %v\n", name, err)
		return fail(ExitFailed)
	}
	out := drillOutcome{failedSteps: failedSteps(res), sabotageRan: sab == nil || sab.ran()}
	end, safe := splitChecks(checks)
	out.failedChecks = failedNames(end)
	if plan != nil {
		v := judgeChaos(sess.rb, res, checks)
		out.chaos = &v
		if len(plan.Faults) > 0 {
			fmt.Fprintf(w, "\nchaos: %d of %s hit the run:\n", countHits(hits), plural(len(plan.Faults), "fault"))
		}
		for _, h := range hits {
			fmt.Fprintf(w, "  %s\n", h)
		}
	}
	out.code = c.drillReport(name, res, st, end, sess.rb.Objectives.RTO.D, sess.rb.Objectives.RPO.D, w, out.chaos, safe)
	if sabotage == "" {
		// The verdict joins the run's journal: evidence of the drill.
		e, err := recordDrillReport(ctx, o.store, res, st, checks, out.code == ExitOK, sess, plan, out.chaos, hits)
		if err != nil {
			fmt.Fprintf(c.Stderr, "runbook: drill %s: journal the report: %v\n", name, err)
			return fail(ExitFailed)
		}
		if o.output == "json" {
			v.writeJSON(e)
		}
	}
	if sab != nil && !sab.ran() {
		fmt.Fprintf(w, "sabotage: step %s never ran, so this drill proves nothing about it\n", sabotage)
	}
	return out
}

// drillWaitCap bounds each wait of a drill (between a step's attempts, and
// the wait action). The stand-ins answer within it; a runbook's retry budget
// is sized for the real providers, and waiting it out in full would make a
// drill whose check never passes (a sabotaged one) take a quarter of an hour.
// The number of attempts is kept, so a check that never passes still fails.
const drillWaitCap = 500 * time.Millisecond

// drillSleep is a drill's clock for waits: real, but at most drillWaitCap.
func drillSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(min(d, drillWaitCap))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// setEnv sets variables in this process's environment, which plugins
// inherit, and returns how to restore them.
func setEnv(vars map[string]string) (restore func()) {
	type saved struct {
		value string
		had   bool
	}
	old := map[string]saved{}
	for k, v := range vars {
		prev, had := os.LookupEnv(k)
		old[k] = saved{prev, had}
		os.Setenv(k, v)
	}
	return func() {
		for k, s := range old {
			if s.had {
				os.Setenv(k, s.value)
			} else {
				os.Unsetenv(k)
			}
		}
	}
}

// drillReport prints a drill's report and returns its exit code; cv, for a
// game-day drill, is its verdict, and safe the checks of a safe failure.
func (c *Command) drillReport(name string, res *run.Result, st *sandbox.Stage, checks []sandbox.Check, rto, rpo time.Duration, w io.Writer, cv *chaosVerdict, safe []sandbox.Check) int {
	fmt.Fprintf(w, "\nDrill report: %s\n", name)
	fmt.Fprintf(w, "  run        %s %s (journaled as a drill: runbook report %s)\n", res.RunID, res.Status, res.RunID)
	if rto > 0 {
		fmt.Fprintf(w, "  RTO        %s used of %s (%.4f%%)\n", humanDuration(res.Elapsed), humanDuration(rto), 100*res.Elapsed.Seconds()/rto.Seconds())
	}
	if !st.RestorePoint.IsZero() {
		loss := st.Incident.Sub(st.RestorePoint)
		verdict := "within"
		if rpo > 0 && loss > rpo {
			verdict = "OUTSIDE"
		}
		fmt.Fprintf(w, "  RPO        restore point %s, %s before the incident: %s the RPO of %s\n", st.RestorePoint.Format(time.RFC3339), loss.Round(time.Millisecond), verdict, eval.ShortDuration(rpo))
	}
	passed := res.Status == journal.StatusSucceeded
	fmt.Fprintf(w, "  checks:\n")
	for _, ch := range checks {
		mark := "ok  "
		if !ch.OK {
			mark = "FAIL"
			passed = false
		}
		fmt.Fprintf(w, "    %s %s: %s\n", mark, ch.Name, ch.Detail)
	}
	if len(checks) == 0 {
		passed = false
		fmt.Fprintf(w, "    FAIL no end-state checks ran\n")
	}
	if cv != nil {
		if len(safe) > 0 {
			fmt.Fprintf(w, "  checks of a safe failure:\n")
		}
		for _, ch := range safe {
			mark := "ok  "
			if !ch.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(w, "    %s %s: %s\n", mark, ch.Name, ch.Detail)
		}
		fmt.Fprintf(w, "drill %s %s\n\n", name, cv)
		if cv.pass() {
			return ExitOK
		}
		return ExitFailed
	}
	if passed {
		fmt.Fprintf(w, "drill %s PASSED\n\n", name)
		return ExitOK
	}
	fmt.Fprintf(w, "drill %s FAILED\n\n", name)
	return ExitFailed
}

// exportJournal writes a run's events, as the store returns them, to
// dir/RUN.jsonl.
func exportJournal(ctx context.Context, store journal.Store, runID, dir string) error {
	events, err := store.Read(ctx, runID)
	if err != nil {
		return fmt.Errorf("read the drill's journal back: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, e := range events {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, runID+".jsonl"), b.Bytes(), 0o600)
}

// recordDrillReport appends the drill's verdict to its run's journal.
func recordDrillReport(ctx context.Context, store journal.Store, res *run.Result, st *sandbox.Stage, checks []sandbox.Check, passed bool, sess *session, plan *chaos.Plan, cv *chaosVerdict, hits []string) (journal.Event, error) {
	events, err := store.Read(ctx, res.RunID)
	if err != nil {
		return journal.Event{}, err
	}
	log, err := store.Append(ctx, res.RunID, events[len(events)-1].Seq, sess.redactor)
	if err != nil {
		return journal.Event{}, err
	}
	status, failed := "passed", []string{}
	if !passed {
		status = "failed"
	}
	outputs := map[string]any{"rto_used_ms": res.Elapsed.Milliseconds()}
	var list, safeList []any
	for _, ch := range checks {
		if ch.Safe {
			safeList = append(safeList, map[string]any{"name": ch.Name, "ok": ch.OK, "detail": ch.Detail})
			continue
		}
		list = append(list, map[string]any{"name": ch.Name, "ok": ch.OK, "detail": ch.Detail})
		if !ch.OK {
			failed = append(failed, ch.Name)
		}
	}
	outputs["checks"] = list
	if plan != nil && cv != nil {
		faults := []any{}
		for _, l := range hits {
			faults = append(faults, l)
		}
		outputs["chaos"] = map[string]any{"seed": strconv.FormatUint(plan.Seed, 10), "verdict": cv.kind, "detail": cv.detail,
			"summary": cv.String(), "faults": faults, "faults_hit": countHits(hits), "safe_checks": safeList}
	}
	total := len(list)
	if !st.RestorePoint.IsZero() {
		outputs["restore_point"] = st.RestorePoint.UTC().Format(time.RFC3339Nano)
		outputs["incident"] = st.Incident.UTC().Format(time.RFC3339Nano)
	}
	msg := fmt.Sprintf("%s of %s passed", plural(total-len(failed), "check"), plural(total, "check"))
	if len(failed) > 0 {
		msg += "; failed: " + strings.Join(failed, ", ")
	}
	if cv != nil {
		msg += "; chaos " + cv.String()
	}
	e, err := log.Write(journal.Event{Type: journal.DrillReport, Runbook: sess.rb.Metadata.Name.Value, Run: res.RunID, Status: status, Message: msg, Outputs: outputs}, true)
	if cerr := log.Close(); err == nil {
		err = cerr
	}
	return e, err
}
