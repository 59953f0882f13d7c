package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/alpha-orion/runbook/engine/eval"
	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/run"
	"github.com/alpha-orion/runbook/internal/drill"
	"github.com/alpha-orion/runbook/internal/pgserver"
	"github.com/spf13/pflag"
)

func init() { flagSets["drill"] = func(fs *pflag.FlagSet) { drillFlags(fs) } }

type drillOpts struct {
	dir, output string
	all         bool
}

func drillFlags(fs *pflag.FlagSet) *drillOpts {
	o := &drillOpts{}
	fs.StringVar(&o.dir, "dir", DefaultDir, "folder to find runbooks by name in")
	fs.BoolVar(&o.all, "all", false, "drill every runbook that has a drill scenario")
	fs.StringVarP(&o.output, "output", "o", "text", "text, or json for the event stream as JSON lines")
	return o
}

func drillCmd() *subcommand {
	return &subcommand{
		name:    "drill",
		summary: "Rehearse a runbook end to end against local emulators of every provider",
		usage:   "drill [flags] NAME...|--all",
		examples: `  runbook drill neon-pitr     # stage the incident, run the runbook, check the end state
  runbook drill --all         # every runbook, as CI does`,
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
	if o.all {
		if len(names) > 0 {
			return c.usageError("drill: give runbook names or --all, not both")
		}
		names = drill.Names()
	}
	if len(names) == 0 {
		return c.usageError("drill: name a runbook (%s) or pass --all", strings.Join(drill.Names(), ", "))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	worst, passed := ExitOK, 0
	var rows []string
	for _, name := range names {
		start := time.Now()
		code := c.drillOne(ctx, name, o)
		verdict := "PASSED"
		if code != ExitOK {
			verdict = "FAILED"
		} else {
			passed++
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
		fmt.Fprintln(c.Stdout, "\nDrills:")
		tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
		for _, r := range rows {
			fmt.Fprintln(tw, "  "+r)
		}
		tw.Flush()
	}
	fmt.Fprintf(c.Stdout, "drills: %d passed, %d failed\n", passed, len(rows)-passed)
	return worst
}

// need reports a missing local program with how to install it.
func need(program string) error {
	switch program {
	case "postgres":
		if _, err := pgserver.FindBinDir(""); err != nil {
			return err
		}
	case "terraform":
		if _, err := exec.LookPath("terraform"); err != nil {
			return errors.New("terraform is not installed: put the terraform binary on PATH (it is not in Debian's archive; see terraform's own install page)")
		}
	case "redis-server":
		if _, err := exec.LookPath("redis-server"); err != nil {
			return errors.New("redis-server is not installed: apt-get install redis-server")
		}
	}
	return nil
}

func (c *Command) drillOne(ctx context.Context, name string, o *drillOpts) int {
	sc, ok := drill.Lookup(name)
	if !ok {
		return c.usageError("drill: no drill scenario for %q (have: %s)", name, strings.Join(drill.Names(), ", "))
	}
	file, err := findRunbook(name, o.dir)
	if err != nil {
		return c.usageError("drill: %v", err)
	}
	for _, p := range sc.Needs {
		if err := need(p); err != nil {
			fmt.Fprintf(c.Stderr, "runbook: drill %s needs %s: %v\n", name, p, err)
			return ExitUsage
		}
	}
	fmt.Fprintf(c.Stdout, "══ drill %s (%s)\n", name, file)
	w, err := drill.NewWorld()
	if err != nil {
		return c.usageError("drill: %v", err)
	}
	defer w.Close()
	st, err := sc.Setup(ctx, w)
	if err != nil {
		fmt.Fprintf(c.Stderr, "runbook: drill %s: staging failed: %v\n", name, err)
		return ExitFailed
	}
	for _, n := range st.Notes {
		fmt.Fprintf(c.Stdout, "staged: %s\n", n)
	}
	f := &runFlags{yes: true, as: "drill", output: o.output, state: filepath.Join(w.Dir, "state")}
	for k, v := range st.Params {
		f.params = append(f.params, k+"="+v)
	}
	sort.Strings(f.params)
	sess, code := c.prepare(file, f, nil, st.Secrets)
	if sess == nil {
		return code
	}
	sess.store = journal.Folder(f.state) // a drill's state is its own, always a folder
	v := newView(c.Stdout, o.output, sess.redactor, sess.rb.Objectives.RTO.D, stepIDs(sess.rb))
	m, err := c.host(ctx, sess, st.Overrides, io.Discard)
	if err != nil {
		return c.usageError("%v", err)
	}
	defer m.Close()
	res, err := run.Start(ctx, c.options(sess, f, m, v))
	if err != nil {
		fmt.Fprintf(c.Stderr, "runbook: drill %s: %s\n", name, sess.redactor.String(err.Error()))
		return ExitFailed
	}
	v.summary(res, sess.rb.Objectives.RTO.D)
	checks := sc.Verify(ctx, w, st)
	return c.drillReport(name, res, st, checks, sess.rb.Objectives.RTO.D, sess.rb.Objectives.RPO.D, v)
}

func (c *Command) drillReport(name string, res *run.Result, st *drill.Stage, checks []drill.Check, rto, rpo time.Duration, v *view) int {
	w := v.w
	fmt.Fprintf(w, "\nDrill report: %s\n", name)
	fmt.Fprintf(w, "  run        %s %s (journal kept for the drill's duration)\n", res.RunID, res.Status)
	if rto > 0 {
		fmt.Fprintf(w, "  RTO        %s used of %s (%.4f%%)\n", res.Elapsed.Round(time.Millisecond), eval.ShortDuration(rto), 100*res.Elapsed.Seconds()/rto.Seconds())
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
	if passed {
		fmt.Fprintf(w, "drill %s PASSED\n\n", name)
		return ExitOK
	}
	fmt.Fprintf(w, "drill %s FAILED\n\n", name)
	return ExitFailed
}
