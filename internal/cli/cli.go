// Package cli implements the runbook command line: subcommands, flags, help
// and exit codes. main only builds a Command and exits with what Main returns,
// so every behaviour here is testable with injected input and output.
package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/diag"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"
)

// Exit codes of the runbook command, as documented in the language reference.
const (
	ExitOK     = 0 // success
	ExitFailed = 1 // the run failed or lint found errors
	ExitUsage  = 2 // usage or input error
	ExitPaused = 3 // the run is paused waiting for an approval
	ExitLocked = 4 // another run holds the runbook's lock
)

// Version is the tool's version, set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

// Command is one invocation of the tool with its input and output.
type Command struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment (os.Getenv by default).
	Getenv func(string) string
	// IsTerminal reports whether Stdout is a terminal (for snippets and live views).
	IsTerminal bool
	// StdinIsTerminal reports whether Stdin is a terminal (approval prompts).
	StdinIsTerminal bool
	// Columns returns the terminal's width; nil means ask Stdout's terminal.
	Columns func() int
	// Root is the project root (see root); empty means find it.
	Root string
	// Catalog is the action catalogue; nil means the built-in one.
	Catalog *catalog.Catalog
	// BinDir holds the provider executables and the drill sandbox; empty
	// means the folder of this executable.
	BinDir string
	// PluginDir holds external plugins and their lock file (see DefaultPluginDir).
	PluginDir string
	// PluginOverrides replace plugin settings (drills point plugins at emulators).
	PluginOverrides map[string]map[string]any
}

// New returns a Command wired to the process's standard streams.
func New() *Command {
	return &Command{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv,
		IsTerminal: isTerminal(os.Stdout), StdinIsTerminal: isTerminal(os.Stdin)}
}

// isTerminal reports whether f is a terminal (not merely a character device such as /dev/null).
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// subcommand is one verb of the CLI.
type subcommand struct {
	name     string
	summary  string
	usage    string
	examples string
	run      func(c *Command, args []string) int
}

func (c *Command) subcommands() []*subcommand {
	return []*subcommand{
		validateCmd(), listCmd(), runCmd(), planCmd(), resumeCmd(), approveCmd(), statusCmd(),
		historyCmd(), showCmd(), reportCmd(), graphCmd(), drillCmd(), pluginCmd(), actionsCmd(), schemaCmd(), completionCmd(), versionCmd(),
	}
}

func (c *Command) find(name string) *subcommand {
	for _, s := range c.subcommands() {
		if s.name == name {
			return s
		}
	}
	return nil
}

// Main runs the command for args (without the program name) and returns the exit code.
func (c *Command) Main(args []string) int {
	if c.Getenv == nil {
		c.Getenv = os.Getenv
	}
	if len(args) == 0 {
		c.help(c.Stderr)
		return ExitUsage
	}
	switch args[0] {
	case "help", "-h", "--help":
		if len(args) > 1 {
			if s := c.find(args[1]); s != nil {
				c.subHelp(c.Stdout, s, nil)
				return ExitOK
			}
			return c.usageError("unknown command %q; run 'runbook help'", args[1])
		}
		c.help(c.Stdout)
		return ExitOK
	case "--version":
		args = []string{"version"}
	case completeCmd:
		return c.runComplete(args[1:])
	}
	s := c.find(args[0])
	if s == nil {
		names := make([]string, 0)
		for _, s := range c.subcommands() {
			names = append(names, s.name)
		}
		return c.usageError("unknown command %q%s; run 'runbook help'", args[0], suggestName(args[0], names))
	}
	return s.run(c, args[1:])
}

func (c *Command) usageError(format string, args ...any) int {
	fmt.Fprintf(c.Stderr, "runbook: "+format+"\n", args...)
	return ExitUsage
}

func (c *Command) help(w io.Writer) {
	fmt.Fprintf(w, "runbook turns a disaster-recovery plan into runbooks you can lint, rehearse and run.\n\n")
	fmt.Fprintf(w, "Usage:\n  runbook COMMAND [flags] [args]\n\nCommands:\n")
	subs := c.subcommands()
	for _, s := range subs {
		fmt.Fprintf(w, "  %-10s %s\n", s.name, s.summary)
	}
	fmt.Fprintf(w, "  %-10s %s\n", "help", "Show help for a command")
	fmt.Fprintf(w, "\nExit codes:\n%s\nRun 'runbook help COMMAND' or 'runbook COMMAND --help' for a command's flags and examples.\n", exitCodeHelp)
}

const exitCodeHelp = `  0  success
  1  the run failed, or lint found errors
  2  usage or input error
  3  the run is paused waiting for an approval
  4  another run holds the runbook's lock
`

func (c *Command) subHelp(w io.Writer, s *subcommand, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "%s\n\nUsage:\n  runbook %s\n", s.summary, s.usage)
	if fs == nil {
		fs = pflag.NewFlagSet(s.name, pflag.ContinueOnError)
		s.flags(fs)
	}
	if u := fs.FlagUsages(); u != "" {
		fmt.Fprintf(w, "\nFlags:\n%s", u)
	}
	if s.examples != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(s.examples, "\n"))
	}
	fmt.Fprintf(w, "\nExit codes:\n%s", exitCodeHelp)
}

// flags registers the subcommand's flags on fs by running it in "describe" mode.
func (s *subcommand) flags(fs *pflag.FlagSet) {
	if f, ok := flagSets[s.name]; ok {
		f(fs)
	}
}

// flagSets lets help list a subcommand's flags without running it.
var flagSets = map[string]func(*pflag.FlagSet){}

// parse parses a subcommand's flags; done is true when the caller should
// return code (help was shown or the flags were wrong).
func (c *Command) parse(s *subcommand, fs *pflag.FlagSet, args []string) (done bool, code int) {
	fs.SetOutput(io.Discard)
	help := fs.BoolP("help", "h", false, "show help for "+s.name)
	if err := fs.Parse(args); err != nil {
		c.usageError("%s: %v%s; run 'runbook %s --help'", s.name, err, suggestFlag(fs, err), s.name)
		return true, ExitUsage
	}
	if *help {
		c.subHelp(c.Stdout, s, fs)
		return true, ExitOK
	}
	return false, 0
}

// suggestName proposes the closest of names to a mistyped one: within
// two edits, else the first that one is a prefix of the other.
func suggestName(name string, names []string) string {
	if s := diag.Suggest(name, names); s != "" {
		return s
	}
	for _, n := range names {
		if name == "" {
			break
		}
		if strings.HasPrefix(n, name) || strings.HasPrefix(name, n) {
			return fmt.Sprintf("; did you mean %q?", n)
		}
	}
	return ""
}

func (c *Command) catalog() *catalog.Catalog {
	if c.Catalog == nil {
		cat, err := c.catalogWithExternal()
		if err != nil {
			fmt.Fprintf(c.Stderr, "runbook: external plugins ignored: %v\n", err)
			cat = DefaultCatalog()
		}
		c.Catalog = cat
	}
	return c.Catalog
}

// binDir is where the provider executables and the drill sandbox are
// looked for first: BinDir, or the folder of this executable.
func (c *Command) binDir() string {
	if c.BinDir != "" {
		return c.BinDir
	}
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	return filepath.Dir(exe)
}

// tuneGC sets the garbage collector's target for this command, unless
// GOGC is set, which still decides.
func (c *Command) tuneGC(percent int) {
	if c.Getenv("GOGC") == "" {
		debug.SetGCPercent(percent)
	}
}

// columns returns the width of the terminal Stdout is on, or 80.
func (c *Command) columns() int {
	if c.Columns != nil {
		return c.Columns()
	}
	if f, ok := c.Stdout.(*os.File); ok {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
			return int(ws.Col)
		}
	}
	return 80
}

// suggestFlag proposes a flag of fs when err is pflag's "unknown flag: --x".
func suggestFlag(fs *pflag.FlagSet, err error) string {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return ""
	}
	var names []string
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	if s := suggestName(name, names); s != "" {
		return strings.Replace(s, `"`, `"--`, 1)
	}
	return ""
}
