package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/engine/lint"
	"github.com/alpha-orion/runbook/internal/catalogdoc"
	"github.com/spf13/pflag"
)

// completeCmd is the hidden command the shell scripts call:
// "runbook __complete WORD... CURRENT" prints the candidates for CURRENT,
// one a line. No candidates lets the shell complete file names.
const completeCmd = "__complete"

// completionTimeout bounds the look-ups completion makes (run ids from the journal).
const completionTimeout = 2 * time.Second

func completionCmd() *subcommand {
	return &subcommand{
		name:    "completion",
		summary: "Print a shell completion script (bash, zsh or fish)",
		usage:   "completion bash|zsh|fish",
		examples: `  source <(runbook completion bash)                  # in ~/.bashrc
  runbook completion zsh > "${fpath[1]}/_runbook"     # then restart zsh
  runbook completion fish > ~/.config/fish/completions/runbook.fish`,
		run: func(c *Command, args []string) int {
			fs := pflag.NewFlagSet("completion", pflag.ContinueOnError)
			if done, code := c.parse(c.find("completion"), fs, args); done {
				return code
			}
			script, ok := completionScripts[fs.Arg(0)]
			if fs.NArg() != 1 || !ok {
				return c.usageError("completion: name one shell: bash, zsh or fish")
			}
			fmt.Fprint(c.Stdout, script)
			return ExitOK
		},
	}
}

var completionScripts = map[string]string{
	"bash": `# bash completion for runbook: source <(runbook completion bash)
_runbook() {
    local IFS=$'\n'
    COMPREPLY=($(runbook __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
    if [ ${#COMPREPLY[@]} -eq 0 ]; then
        compopt -o default 2>/dev/null
    fi
}
complete -F _runbook runbook
`,
	"zsh": `#compdef runbook
# zsh completion for runbook: runbook completion zsh > "${fpath[1]}/_runbook"
_runbook() {
    local -a candidates
    candidates=("${(@f)$(runbook __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    if [[ -n "${candidates[1]}" ]]; then
        compadd -a candidates
    else
        _files
    fi
}
compdef _runbook runbook
`,
	"fish": `# fish completion for runbook: runbook completion fish > ~/.config/fish/completions/runbook.fish
function __runbook_complete
    set -l candidates (runbook __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)
    if test (count $candidates) -eq 0
        __fish_complete_path (commandline -ct)
    else
        printf '%s\n' $candidates
    end
end
complete -c runbook -f -a '(__runbook_complete)'
`,
}

// runComplete prints the candidates for the last of words.
func (c *Command) runComplete(words []string) int {
	for _, w := range c.complete(words) {
		fmt.Fprintln(c.Stdout, w)
	}
	return ExitOK
}

// complete returns the candidates for the last word of words (the command
// line after "runbook"), sorted, or none to let the shell complete files.
func (c *Command) complete(words []string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cur := words[len(words)-1]
	var names []string
	for _, s := range c.subcommands() {
		names = append(names, s.name)
	}
	if len(words) == 1 || words[0] == "help" && len(words) == 2 {
		return withPrefix(append(names, "help"), cur)
	}
	s := c.find(words[0])
	if s == nil {
		return nil
	}
	fs := pflag.NewFlagSet(s.name, pflag.ContinueOnError)
	s.flags(fs)
	fs.BoolP("help", "h", false, "")
	if strings.HasPrefix(cur, "-") {
		var flags []string
		fs.VisitAll(func(f *pflag.Flag) { flags = append(flags, "--"+f.Name) })
		return withPrefix(flags, cur)
	}
	if prev := words[len(words)-2]; strings.HasPrefix(prev, "-") && !strings.Contains(prev, "=") {
		if f := lookupFlag(fs, prev); f != nil && f.Value.Type() != "bool" {
			return withPrefix(flagValues(f), cur)
		}
	}
	return withPrefix(c.positionals(s.name, positionalCount(fs, words[1:len(words)-1])), cur)
}

// positionalCount counts the arguments before the current word that are
// not flags or flag values.
func positionalCount(fs *pflag.FlagSet, words []string) int {
	n := 0
	for i := 0; i < len(words); i++ {
		w := words[i]
		if !strings.HasPrefix(w, "-") || w == "-" {
			n++
			continue
		}
		if f := lookupFlag(fs, w); f != nil && f.Value.Type() != "bool" && !strings.Contains(w, "=") {
			i++ // the flag's value
		}
	}
	return n
}

func lookupFlag(fs *pflag.FlagSet, word string) *pflag.Flag {
	name := strings.TrimLeft(word, "-")
	if strings.HasPrefix(word, "--") {
		return fs.Lookup(name)
	}
	return fs.ShorthandLookup(name)
}

// flagValues reads a flag's choices from its usage, "…: a, b or c".
func flagValues(f *pflag.Flag) []string {
	_, list, ok := strings.Cut(f.Usage, ": ")
	if !ok {
		return nil
	}
	list, _, _ = strings.Cut(list, " (")
	var out []string
	for _, v := range strings.FieldsFunc(strings.ReplaceAll(list, " or ", ","), func(r rune) bool { return r == ',' }) {
		v = strings.TrimSpace(v)
		if v == "" || strings.ContainsAny(v, " ") {
			return nil // prose, not a list of choices
		}
		out = append(out, v)
	}
	return out
}

// positionals lists what the command takes as its argument number n (from 0).
func (c *Command) positionals(cmd string, n int) []string {
	switch cmd {
	case "run", "plan", "graph", "drill", "history":
		return c.runbookNames()
	case "resume", "show", "report", "status", "approve":
		if n == 0 {
			return c.runIDs()
		}
	case "actions":
		if n == 0 {
			return catalogdoc.Names(c.catalog())
		}
	case "plugin":
		if n == 0 {
			return []string{"list", "pin"}
		}
	case "completion":
		if n == 0 {
			return sortedKeys(completionScripts)
		}
	}
	return nil
}

// runbookNames are the metadata.name of the runbooks in the default folder.
func (c *Command) runbookNames() []string {
	files, err := lint.Expand([]string{DefaultDir})
	if err != nil {
		return nil
	}
	var names []string
	for _, f := range files {
		if n := metadataName(f); n != "" {
			names = append(names, n)
		}
	}
	return names
}

// runIDs are the ids of the runs in the journal.
func (c *Command) runIDs() []string {
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	store, err := c.openStore(ctx, "")
	if err != nil {
		return nil
	}
	defer store.Close()
	ids, _ := store.List(ctx)
	return ids
}

func withPrefix(list []string, prefix string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range list {
		if strings.HasPrefix(s, prefix) && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
