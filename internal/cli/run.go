package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/diag"
	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/lint"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/engine/redact"
	"github.com/alpha-orion/runbook/engine/run"
	"github.com/alpha-orion/runbook/plugins/host"
	"github.com/alpha-orion/runbook/plugins/providers"
	"github.com/spf13/pflag"
)

// SecretEnvPrefix is how secrets reach a run from the environment: RUNBOOK_SECRET_<NAME>.
const SecretEnvPrefix = "RUNBOOK_SECRET_"

// DefaultStateDir is where journals and locks live unless --state or RUNBOOK_STATE say otherwise.
const DefaultStateDir = ".runbook"

// stateUsage describes --state for every command that has it.
const stateUsage = "state folder, or postgres://… URL of a shared state database, for journals and locks (default $RUNBOOK_STATE or " + DefaultStateDir + ")"

// runFlags are the flags run, plan and resume share.
type runFlags struct {
	dir         string
	params      []string
	paramsFile  string
	secretsFile string
	yes         bool
	approve     []string
	as          string
	state       string
	output      string
	concurrency int
	maxOutput   string
	// maxOutputBytes is maxOutput parsed.
	maxOutputBytes int
}

func (f *runFlags) register(fs *pflag.FlagSet, verb string) {
	if verb != "resume" {
		fs.StringVar(&f.dir, "dir", DefaultDir, "folder to find runbooks by name in")
		fs.StringArrayVarP(&f.params, "param", "p", nil, "a param as NAME=VALUE (repeatable)")
		fs.StringVar(&f.paramsFile, "params-file", "", "a YAML or JSON file of params")
	}
	fs.StringVar(&f.secretsFile, "secrets-file", "", "a file of secrets (NAME=VALUE lines or YAML); default: "+SecretEnvPrefix+"<NAME> variables")
	if verb != "plan" {
		fs.BoolVarP(&f.yes, "yes", "y", false, "approve every confirm, approval and manual step up front (their text is still printed)")
		fs.StringArrayVar(&f.approve, "approve", nil, "approve the step with this id up front (repeatable)")
		fs.StringVar(&f.state, "state", "", stateUsage)
		fs.StringVarP(&f.output, "output", "o", "text", "text, or json for the event stream as JSON lines (docs/events.md)")
		fs.IntVar(&f.concurrency, "concurrency", 0, "run at most this many steps at once (default: the runbook's)")
		fs.StringVar(&f.maxOutput, "max-output", "1MiB", "the most a step's outputs may take, as JSON (e.g. 512KiB, 16MiB); over it the step fails")
	} else {
		fs.StringVarP(&f.output, "output", "o", "text", "text, or json for the plan as one JSON object")
	}
	fs.StringVar(&f.as, "as", "", "who you are, for the journal (default: the OS user)")
}

func init() {
	flagSets["run"] = func(fs *pflag.FlagSet) { (&runFlags{}).register(fs, "run") }
	flagSets["plan"] = func(fs *pflag.FlagSet) { (&runFlags{}).register(fs, "plan") }
	flagSets["resume"] = func(fs *pflag.FlagSet) { (&runFlags{}).register(fs, "resume") }
}

func runCmd() *subcommand {
	return &subcommand{
		name:    "run",
		summary: "Run a runbook by name or file",
		usage:   "run [flags] NAME|FILE",
		examples: `  runbook run neon-pitr --param restore_to=2024-05-20T10:00:00Z
  runbook run runbooks/neon-pitr.yaml --params-file incident.yaml --approve restore
  RUNBOOK_SECRET_NEON_API_KEY=... runbook run neon-pitr -p restore_to=... --output json`,
		run: func(c *Command, args []string) int { return c.runLike("run", args) },
	}
}

func planCmd() *subcommand {
	return &subcommand{
		name:    "plan",
		summary: "Show what a run would do, without doing it",
		usage:   "plan [flags] NAME|FILE",
		examples: `  runbook plan neon-pitr --param restore_to=2024-05-20T10:00:00Z
  runbook plan examples/hello.yaml -p who=team
  runbook plan neon-pitr -p restore_to=... --output json | jq '.steps[] | select(.decision != "run")'

Exit codes, as terraform plan -detailed-exitcode: 0 nothing is predicted
to go wrong; 1 a step is predicted to fail or an input is missing; 2 usage.`,
		run: func(c *Command, args []string) int { return c.runLike("plan", args) },
	}
}

func resumeCmd() *subcommand {
	return &subcommand{
		name:    "resume",
		summary: "Continue a paused, failed, cancelled or crashed run",
		usage:   "resume [flags] RUN_ID",
		examples: `  runbook resume 20240520T101500Z-neon-pitr-3f9a1c --approve restore
  runbook status                       # to find the run id`,
		run: func(c *Command, args []string) int { return c.runLike("resume", args) },
	}
}

// session is everything a run, plan or resume needs.
type session struct {
	rb       *load.Runbook
	cat      *catalog.Catalog
	params   map[string]any
	secrets  map[string]string
	env      map[string]string
	redactor *redact.Redactor
	user     string
	store    journal.Store
	// problems are what prepare found missing (secrets, params), reported
	// by preflight with everything else it finds.
	problems []string
	// overrides replace plugin settings (see host).
	overrides map[string]map[string]any
}

func (c *Command) runLike(verb string, args []string) int {
	s := c.find(verb)
	fs := pflag.NewFlagSet(verb, pflag.ContinueOnError)
	var f runFlags
	f.register(fs, verb)
	if done, code := c.parse(s, fs, args); done {
		return code
	}
	if fs.NArg() != 1 {
		return c.usageError("%s takes one argument: %s", verb, strings.TrimPrefix(s.usage, verb+" [flags] "))
	}
	switch f.output {
	case "text", "json", "":
	default:
		return c.usageError("%s: unknown --output %q (text, json)", verb, f.output)
	}
	if verb != "plan" {
		n, err := parseSize(f.maxOutput)
		if err != nil {
			return c.usageError("%s: %v", verb, err)
		}
		f.maxOutputBytes = n
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var store journal.Store
	if verb != "plan" {
		var err error
		if store, err = c.openStore(ctx, f.state); err != nil {
			return c.usageError("%s: %v", verb, err)
		}
		defer store.Close()
	}
	if verb == "resume" {
		return c.resume(ctx, fs.Arg(0), &f, store)
	}
	file, err := findRunbook(fs.Arg(0), c.runbookDir(f.dir))
	if err != nil {
		return c.usageError("%s: %v", verb, err)
	}
	sess, code := c.prepare(file, &f, nil, nil)
	if sess == nil {
		return code
	}
	if verb == "plan" {
		return c.plan(ctx, sess, f.output)
	}
	sess.store = store
	return c.start(ctx, sess, &f)
}

func (c *Command) stateDir(flag string) string {
	if flag != "" {
		return flag
	}
	if v := c.Getenv("RUNBOOK_STATE"); v != "" {
		return v
	}
	return c.inRoot(DefaultStateDir)
}

// openStore opens the state --state, $RUNBOOK_STATE or the default names.
func (c *Command) openStore(ctx context.Context, flag string) (journal.Store, error) {
	return journal.Open(ctx, c.stateDir(flag))
}

// prepare loads and validates the runbook, then gathers params and secrets.
// journaled params (resume) replace the flags.
func (c *Command) prepare(file string, f *runFlags, journaled map[string]any, secrets map[string]string) (*session, int) {
	cat := c.catalog()
	rb, diags, err := load.ReadFile(file)
	if err != nil {
		return nil, c.usageError("cannot read %s: %v", file, err)
	}
	diags = lint.Suppress(rb, append(diags, lint.Runbook(rb, cat)...))
	diags.Sort()
	if e, _ := diags.Count(); e > 0 {
		var errs diag.List
		for _, d := range diags {
			if d.Severity == diag.Error {
				errs = append(errs, d)
			}
		}
		diag.WriteText(c.Stderr, errs, diag.Sources{rb.File: rb.Source}, false)
		fmt.Fprintf(c.Stderr, "runbook: %s has %s; fix them first ('runbook validate %s')\n", file, plural(e, "error"), file)
		return nil, ExitFailed
	}
	// The journal records the file from the project root: a run resumes,
	// and is reported on, from any folder of the project.
	rb.File = c.fromRoot(file)
	sess := &session{rb: rb, cat: cat, user: whoami(f.as)}
	sess.secrets = secrets
	if secrets == nil {
		if sess.secrets, err = c.secrets(rb, f.secretsFile); err != nil {
			sess.problems = append(sess.problems, err.Error())
		}
	}
	sess.redactor = redact.New()
	for _, v := range sess.secrets {
		sess.redactor.Add(v)
	}
	sess.env = c.environ()
	values := journaled
	text := map[string]string{}
	if journaled == nil {
		if f.paramsFile != "" {
			if values, err = readKV(f.paramsFile); err != nil {
				return nil, c.usageError("--params-file: %v", err)
			}
		}
		for _, p := range f.params {
			k, v, ok := strings.Cut(p, "=")
			if !ok {
				return nil, c.usageError("--param %q: want NAME=VALUE", p)
			}
			text[k] = v
		}
	}
	if sess.params, err = run.Params(rb, values, text); err != nil {
		sess.problems = append(sess.problems, "params: "+err.Error())
	}
	return sess, ExitOK
}

// secrets reads the runbook's declared secrets from a file or the environment.
func (c *Command) secrets(rb *load.Runbook, file string) (map[string]string, error) {
	var fromFile map[string]any
	if file != "" {
		var err error
		if fromFile, err = readKV(file); err != nil {
			return nil, fmt.Errorf("--secrets-file: %w", err)
		}
	}
	out := map[string]string{}
	var missing []string
	for _, s := range rb.Secrets {
		name := s.Value
		if v, ok := fromFile[name]; ok {
			out[name] = fmt.Sprint(v)
		} else if v := c.Getenv(SecretEnvPrefix + name); v != "" {
			out[name] = v
		} else {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		noun := "secret"
		if len(missing) > 1 {
			noun = "secrets"
		}
		return nil, fmt.Errorf("%s not set: %s; export %s<NAME> or pass --secrets-file", noun, strings.Join(missing, ", "), SecretEnvPrefix)
	}
	return out, nil
}

// environ is the environment expressions see as env, without secrets.
func (c *Command) environ() map[string]string {
	out := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, SecretEnvPrefix) {
			out[k] = c.Getenv(k)
			if out[k] == "" {
				out[k] = v
			}
		}
	}
	return out
}

// host starts a plugin manager for the session's runbook.
//
// prestart names the plugins to start at once, in parallel, while the
// first steps are prepared; others start when a step needs them.
func (c *Command) host(ctx context.Context, sess *session, overrides map[string]map[string]any, logw io.Writer, prestart []string) (*host.Manager, error) {
	sess.overrides = overrides
	cfg, err := run.PluginConfig(sess.rb, sess.params, sess.secrets, sess.env, overrides)
	if err != nil {
		return nil, errors.New(sess.redactor.String(err.Error()))
	}
	lock, err := readLock(c.pluginDir())
	if err != nil {
		return nil, err
	}
	m := host.New(host.Options{Providers: providers.Names(), Env: providers.Env(), Search: []string{c.binDir()}, Dir: c.pluginDir(), Pins: lock.pins(), Config: cfg, Catalog: sess.cat, Log: logw})
	if len(prestart) > 0 {
		go m.Start(ctx, prestart...) // in parallel, while the first steps are prepared
	}
	return m, nil
}

func (c *Command) options(sess *session, f *runFlags, m *host.Manager, v *view) run.Options {
	ids := map[string]bool{}
	for _, id := range f.approve {
		ids[id] = true
	}
	var in *bufio.Reader
	if c.Stdin != nil {
		in = bufio.NewReader(c.Stdin)
	}
	return run.Options{
		Runbook: sess.rb, Catalog: sess.cat, Params: sess.params, Secrets: sess.secrets, Env: sess.env,
		Dispatcher: m, Store: sess.store, User: sess.user, Redactor: sess.redactor, Concurrency: f.concurrency, MaxOutputBytes: f.maxOutputBytes,
		Approver: &approver{user: sess.user, all: f.yes, ids: ids, terminal: c.StdinIsTerminal, in: in, out: sess.redactor.Writer(c.Stderr), hold: v.hold},
		Observe:  v.event,
	}
}

// stepLists returns the runbook's step ids list by list: steps,
// on_failure, finally.
func stepLists(rb *load.Runbook) [][]string {
	var lists [][]string
	for _, l := range [][]*load.Step{rb.Steps, rb.OnFailure, rb.Finally} {
		ids := make([]string, 0, len(l))
		for _, s := range l {
			ids = append(ids, s.ID.Value)
		}
		lists = append(lists, ids)
	}
	return lists
}

func (c *Command) start(ctx context.Context, sess *session, f *runFlags) int {
	v := newView(c.Stdout, f.output, sess.redactor, sess.rb.Objectives.RTO.D, stepLists(sess.rb))
	m, err := c.host(ctx, sess, c.PluginOverrides, sess.redactor.Writer(c.Stderr), nil)
	if err != nil {
		return c.usageError("%v", err)
	}
	defer m.Close()
	if problems := c.preflight(ctx, sess, m, run.UsedPlugins(sess.rb)); len(problems) > 0 {
		reportPreflight(c.Stderr, problems)
		return ExitUsage
	}
	c.startLive(v)
	res, err := run.Start(ctx, c.options(sess, f, m, v))
	v.stopLive()
	return c.finish(res, err, sess, v)
}

func (c *Command) finish(res *run.Result, err error, sess *session, v *view) int {
	var locked *journal.LockedError
	switch {
	case errors.As(err, &locked):
		fmt.Fprintf(c.Stderr, "runbook: %v; wait for it to finish, or check it with 'runbook status %s'\n", err, locked.Holder.Run)
		return ExitLocked
	case err != nil:
		fmt.Fprintf(c.Stderr, "runbook: %s\n", sess.redactor.String(err.Error()))
		return ExitUsage
	}
	v.summary(res, sess.rb.Objectives.RTO.D)
	switch res.Status {
	case journal.StatusSucceeded:
		return ExitOK
	case journal.StatusPaused:
		waiting := waitingSteps(res)
		flags := "--approve " + strings.Join(waiting, " --approve ")
		fmt.Fprintf(c.Stderr, "runbook: run %s is paused: waiting for a person on %s (%s: %s).\nTo continue: runbook resume %s %s\n(or approve from anywhere that sees the state: runbook approve %s STEP for each, then runbook resume %s)\n",
			res.RunID, strings.Join(waiting, ", "), res.Pause.Step, res.Pause.Kind, res.RunID, flags, res.RunID, res.RunID)
		return ExitPaused
	case journal.StatusCancelled:
		fmt.Fprintf(c.Stderr, "runbook: run %s cancelled; to continue: runbook resume %s\n", res.RunID, res.RunID)
		return ExitFailed
	}
	fmt.Fprintf(c.Stderr, "runbook: run %s failed: %s\n", res.RunID, sess.redactor.String(fmt.Sprint(res.Err)))
	return ExitFailed
}

func (c *Command) resume(ctx context.Context, runID string, f *runFlags, store journal.Store) int {
	runID, err := resolveRun(ctx, store, runID)
	if err != nil {
		return c.usageError("resume: %v", err)
	}
	events, err := store.Read(ctx, runID)
	if err != nil {
		return c.usageError("resume: %v", err)
	}
	rp, err := run.Replay(events)
	if err != nil {
		return c.usageError("resume: %v", err)
	}
	if rp.Status == journal.StatusSucceeded {
		fmt.Fprintf(c.Stdout, "run %s already succeeded; nothing to resume\n", runID)
		return ExitOK
	}
	sess, code := c.prepare(c.inRoot(filepath.FromSlash(rp.File)), f, rp.Params, nil)
	if sess == nil {
		return code
	}
	sess.store = store
	v := newView(c.Stdout, f.output, sess.redactor, sess.rb.Objectives.RTO.D, stepLists(sess.rb))
	v.start = rp.Started
	finished := func(id string) bool {
		st := rp.Steps[id]
		return st != nil && (st.Status == journal.StatusSucceeded || st.Status == journal.StatusSkipped)
	}
	m, err := c.host(ctx, sess, c.PluginOverrides, sess.redactor.Writer(c.Stderr), nil)
	if err != nil {
		return c.usageError("%v", err)
	}
	defer m.Close()
	if problems := c.preflight(ctx, sess, m, run.PendingPlugins(sess.rb, finished)); len(problems) > 0 {
		reportPreflight(c.Stderr, problems)
		return ExitUsage
	}
	c.startLive(v)
	res, _, err := run.Resume(ctx, c.options(sess, f, m, v), runID)
	v.stopLive()
	return c.finish(res, err, sess, v)
}

// plannedReport is plan --output json.
type plannedReport struct {
	SchemaVersion int           `json:"schema_version"`
	Runbook       string        `json:"runbook"`
	File          string        `json:"file"`
	Predicted     string        `json:"predicted"` // "ok" or "fail"
	Steps         []run.Planned `json:"steps"`
}

// plan prints what a run would do. Its exit code says whether anything is
// predicted to go wrong: 0 no, 1 a step would fail.
func (c *Command) plan(ctx context.Context, sess *session, output string) int {
	m, err := c.host(ctx, sess, c.PluginOverrides, sess.redactor.Writer(c.Stderr), nil)
	if err != nil {
		return c.usageError("%v", err)
	}
	defer m.Close()
	if problems := c.preflight(ctx, sess, m, run.UsedPlugins(sess.rb)); len(problems) > 0 {
		reportPreflight(c.Stderr, problems)
		return ExitFailed // plan: an input is missing
	}
	o := run.Options{Runbook: sess.rb, Catalog: sess.cat, Params: sess.params, Secrets: sess.secrets, Env: sess.env, Dispatcher: m, User: sess.user, Redactor: sess.redactor}
	steps, err := run.DryRun(ctx, o)
	if err != nil {
		return c.usageError("plan: %v", err)
	}
	code, failing := ExitOK, 0
	for _, p := range steps {
		if p.Decision == run.PlanFail {
			code, failing = ExitFailed, failing+1
		}
	}
	w := sess.redactor.Writer(c.Stdout)
	if output == "json" {
		rep := plannedReport{SchemaVersion: StreamSchemaVersion, Runbook: sess.rb.Metadata.Name.Value, File: sess.rb.File, Predicted: "ok", Steps: steps}
		if code != ExitOK {
			rep.Predicted = "fail"
		}
		for i := range rep.Steps {
			rep.Steps[i].Inputs = durationsAsText(rep.Steps[i].Inputs)
			rep.Steps[i].Outputs = durationsAsText(rep.Steps[i].Outputs)
		}
		data, err := json.Marshal(rep)
		if err != nil {
			return c.usageError("plan: %v", err)
		}
		w.Write(append(data, '\n'))
		return code
	}
	fmt.Fprintf(w, "Plan for %s (%s)\n\n", sess.rb.Metadata.Name.Value, sess.rb.File)
	phase := ""
	for _, p := range steps {
		if p.Phase != phase {
			phase = p.Phase
			fmt.Fprintf(w, "%s:\n", phase)
		}
		mark := map[string]string{run.PlanRun: "+", run.PlanSkip: "-", run.PlanUnknown: "?", run.PlanFail: "!"}[p.Decision]
		fmt.Fprintf(w, "  %s %s  %s\n", mark, p.ID, p.Action)
		if p.Summary != "" {
			fmt.Fprintf(w, "      %s\n", printable(strings.ReplaceAll(p.Summary, "\n", "\n      ")))
		}
		if p.Reason != "" {
			fmt.Fprintf(w, "      (%s)\n", printable(p.Reason))
		}
		if p.Confirm != "" {
			fmt.Fprintf(w, "      needs approval: %s\n", printable(firstLine(p.Confirm)))
		}
	}
	fmt.Fprintf(w, "\n+ would run   - would be skipped   ? depends on what only the run can tell   ! predicted to fail\n")
	if failing > 0 {
		fmt.Fprintf(c.Stderr, "runbook: plan: %s predicted to fail\n", plural(failing, "step"))
	}
	return code
}

func statusCmd() *subcommand {
	return &subcommand{
		name:    "status",
		summary: "Show recent runs, or where one run stands",
		usage:   "status [flags] [RUN_ID]",
		examples: `  runbook status
  runbook status 20240520T101500Z-neon-pitr-3f9a1c`,
		run: runStatus,
	}
}

func init() {
	flagSets["status"] = func(fs *pflag.FlagSet) { fs.String("state", "", stateUsage) }
}

func runStatus(c *Command, args []string) int {
	fs := pflag.NewFlagSet("status", pflag.ContinueOnError)
	state := fs.String("state", "", stateUsage)
	if done, code := c.parse(c.find("status"), fs, args); done {
		return code
	}
	ctx := context.Background()
	store, err := c.openStore(ctx, *state)
	if err != nil {
		return c.usageError("status: %v", err)
	}
	defer store.Close()
	if fs.NArg() == 0 {
		ids, err := store.List(ctx)
		if err != nil {
			return c.usageError("status: %v", err)
		}
		if len(ids) == 0 {
			fmt.Fprintf(c.Stdout, "no runs in %s\n", store)
			return ExitOK
		}
		fmt.Fprintf(c.Stdout, "%-48s %-10s %-10s %s\n", "RUN", "STATUS", "BY", "UPDATED")
		var damaged []historyEntry
		for _, id := range ids {
			events, err := store.Read(ctx, id)
			var rp *run.Replayed
			if err == nil {
				rp, err = run.Replay(events)
			}
			if err != nil {
				d := damagedEntry(id, events, err)
				damaged = append(damaged, d)
				fmt.Fprintf(c.Stdout, "%-48s %-10s %-10s %s\n", id, d.Status, or(d.User, "?"), "-")
				continue
			}
			fmt.Fprintf(c.Stdout, "%-48s %-10s %-10s %s\n", id, rp.Status, rp.User, rp.Updated.Local().Format("2006-01-02 15:04:05"))
		}
		for _, d := range damaged {
			fmt.Fprintf(c.Stdout, "%s is damaged: %s\n", d.Run, d.Reason)
		}
		return ExitOK
	}
	id, err := resolveRun(ctx, store, fs.Arg(0))
	if err != nil {
		return c.usageError("status: %v", err)
	}
	events, err := store.Read(ctx, id)
	if err != nil {
		return c.usageError("status: %v", err)
	}
	rp, err := run.Replay(events)
	if err != nil {
		return c.usageError("status: %v", err)
	}
	fmt.Fprintf(c.Stdout, "run %s of %s (%s), started %s by %s: %s\n", rp.RunID, rp.Runbook, filepath.ToSlash(rp.File), rp.Started.Local().Format("2006-01-02 15:04:05"), rp.User, rp.Status)
	if rp.Pause != nil {
		fmt.Fprintf(c.Stdout, "waiting for %s of step %s: runbook resume %s --approve %s (or runbook approve %s %s)\n", rp.Pause.Kind, rp.Pause.Step, rp.RunID, rp.Pause.Step, rp.RunID, rp.Pause.Step)
	}
	ids := make([]string, 0, len(rp.Steps))
	for id := range rp.Steps {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		st := rp.Steps[id]
		fmt.Fprintf(c.Stdout, "  %-24s %-10s attempts=%d %s\n", id, st.Status, st.Attempts, firstLine(st.Err))
	}
	if rp.Status == journal.StatusRunning {
		fmt.Fprintf(c.Stdout, "(no end recorded: the run is in progress, or crashed; 'runbook resume %s' continues it)\n", rp.RunID)
	}
	return ExitOK
}

// parseSize reads a size such as 1048576, 512KiB or 16MiB (KB and MB are
// read as KiB and MiB).
func parseSize(s string) (int, error) {
	t := strings.TrimSpace(s)
	mult := 1
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if n, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.Atoi(t)
	if err != nil || n <= 0 || n > (1<<31-1)/mult {
		return 0, fmt.Errorf("--max-output %q: want a size such as 1MiB, 512KiB or 16777216", s)
	}
	return n * mult, nil
}
