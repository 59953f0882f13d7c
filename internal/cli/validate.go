package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/alpha-orion/runbook/engine/diag"
	"github.com/alpha-orion/runbook/engine/lint"
	"github.com/spf13/pflag"
)

// DefaultDir is where runbooks live unless told otherwise.
const DefaultDir = "runbooks"

// validateOptions are validate's flags.
type validateOptions struct {
	format    *string
	strict    *bool
	sarifRoot *string
}

func validateFlags(fs *pflag.FlagSet) validateOptions {
	return validateOptions{
		format:    fs.StringP("format", "f", "text", "output format: text, json, github or sarif"),
		strict:    fs.Bool("strict", false, "treat warnings as failures"),
		sarifRoot: fs.String("sarif-root", "", "folder SARIF file URIs are relative to (default: the repository holding the working directory)"),
	}
}

func init() { flagSets["validate"] = func(fs *pflag.FlagSet) { validateFlags(fs) } }

func validateCmd() *subcommand {
	return &subcommand{
		name:    "validate",
		summary: "Check runbooks for errors without running them",
		usage:   "validate [flags] [PATH...]",
		examples: `  runbook validate                       # every runbook under runbooks/
  runbook validate runbooks/neon-pitr.yaml
  runbook validate --strict --format github runbooks/   # in a GitHub Actions job
  runbook validate --format sarif > runbook.sarif        # for code scanning`,
		run: runValidate,
	}
}

func runValidate(c *Command, args []string) int {
	// validate makes much short-lived garbage and exits: collecting at 4x
	// the live heap instead of 2x takes a tenth off its time on the
	// benchmark corpus (scripts/bench.sh). Commands that run runbooks keep
	// the default, where memory matters more.
	c.tuneGC(400)
	s := c.find("validate")
	fs := pflag.NewFlagSet("validate", pflag.ContinueOnError)
	opts := validateFlags(fs)
	format, strict := opts.format, opts.strict
	if done, code := c.parse(s, fs, args); done {
		return code
	}
	switch *format {
	case "text", "json", "github", "sarif":
	default:
		return c.usageError("validate: unknown --format %q (text, json, github, sarif)", *format)
	}
	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{c.runbookDir(DefaultDir)}
	}
	files, err := lint.Expand(paths)
	if err != nil {
		return c.usageError("validate: %v", err)
	}
	if len(files) == 0 {
		return c.usageError("validate: no .yaml or .yml files in %v", paths)
	}
	res, err := lint.Files(files, c.catalog())
	if err != nil {
		return c.usageError("validate: %v", err)
	}
	if err := c.writeDiags(*format, *opts.sarifRoot, res); err != nil {
		fmt.Fprintf(c.Stderr, "runbook: validate: %v\n", err)
		return ExitUsage
	}
	errs, warns := res.Diags.Count()
	if *format == "text" && (errs > 0 || warns > 0) {
		fmt.Fprintf(c.Stderr, "%s, %s in %s\n", plural(errs, "error"), plural(warns, "warning"), plural(len(files), "file"))
	}
	if errs > 0 || (*strict && warns > 0) {
		return ExitFailed
	}
	return ExitOK
}

func (c *Command) writeDiags(format, sarifRoot string, res *lint.Result) error {
	switch format {
	case "json":
		return diag.WriteJSON(c.Stdout, res.Diags)
	case "github":
		return diag.WriteGitHub(c.Stdout, res.Diags)
	case "sarif":
		root, err := sarifRootDir(sarifRoot)
		if err != nil {
			return err
		}
		return diag.WriteSARIF(c.Stdout, res.Diags, diag.SARIFOptions{ToolVersion: Version, Root: root})
	}
	return diag.WriteText(c.Stdout, res.Diags, res.Sources, c.IsTerminal)
}

// sarifRootDir is the folder SARIF URIs are relative to: flag, when given;
// else the nearest folder above the working directory holding .git (the
// repository's root, as code scanning expects); else the working directory.
func sarifRootDir(flag string) (string, error) {
	if flag != "" {
		return filepath.Abs(flag)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return wd, nil
		}
	}
}
