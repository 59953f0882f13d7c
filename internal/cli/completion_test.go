package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/internal/testenv"
)

// completionState is a state folder with two runs in its journal.
func completionState(t *testing.T) string {
	t.Helper()
	state := t.TempDir()
	runs := journal.RunsDir(state)
	if err := os.MkdirAll(runs, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"20240520-100000-aaaa", "20240521-100000-bbbb"} {
		if err := os.WriteFile(filepath.Join(runs, id+".jsonl"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return state
}

func TestComplete(t *testing.T) {
	state := completionState(t)
	c := &Command{Getenv: func(k string) string {
		if k == "RUNBOOK_STATE" {
			return state
		}
		return ""
	}}
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{"val"}, []string{"validate"}},
		{[]string{"co"}, []string{"completion"}},
		{[]string{"help", "ver"}, []string{"version"}},
		{[]string{"validate", "--st"}, []string{"--strict"}},
		{[]string{"validate", "--format", ""}, []string{"github", "json", "sarif", "text"}},
		{[]string{"validate", "-f", "j"}, []string{"json"}},
		{[]string{"validate", "--sarif-root", ""}, nil}, // a folder: the shell completes it
		{[]string{"validate", "run"}, nil},              // files
		{[]string{"actions", "redis.g"}, []string{"redis.get"}},
		{[]string{"actions", "--format", "markdown", "wa"}, []string{"wait"}},
		{[]string{"actions", "log", ""}, nil},
		{[]string{"completion", ""}, []string{"bash", "fish", "zsh"}},
		{[]string{"show", "2024052"}, []string{"20240520-100000-aaaa", "20240521-100000-bbbb"}},
		{[]string{"approve", "20240521", ""}, nil},
		{[]string{"approve", "20240521"}, []string{"20240521-100000-bbbb"}},
		{[]string{"plugin", "l"}, []string{"list"}},
		{[]string{"nosuch", ""}, nil},
	} {
		t.Run(strings.Join(tc.words, " "), func(t *testing.T) {
			if got := c.complete(tc.words); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("complete(%q) = %q, want %q", tc.words, got, tc.want)
			}
		})
	}
}

// TestCompleteRunbookNames completes runbook names from runbooks/ of the working directory.
func TestCompleteRunbookNames(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	c := &Command{Getenv: func(string) string { return "" }}
	got := c.complete([]string{"run", ""})
	if len(got) == 0 {
		t.Fatal("no runbook names under runbooks/")
	}
	for _, name := range got {
		if _, err := findRunbook(name, DefaultDir); err != nil {
			t.Errorf("completed %q, which run cannot find: %v", name, err)
		}
	}
}

// shellCompletion runs script in a real shell with the built runbook on
// PATH and returns its output lines.
func shellCompletion(t *testing.T, shell, script string) []string {
	t.Helper()
	path, err := exec.LookPath(shell)
	testenv.Missing(t, shell, err)
	cmd := exec.Command(path, "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"), "RUNBOOK_STATE="+completionState(t))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", shell, err, errb.String())
	}
	return strings.Fields(out.String())
}

// TestCompletionScripts loads each script into its shell and completes.
func TestCompletionScripts(t *testing.T) {
	for _, tc := range []struct {
		shell, script string
		want          []string
	}{
		{"bash", `source <(runbook completion bash)
COMP_WORDS=(runbook val); COMP_CWORD=1; _runbook; echo "${COMPREPLY[@]}"
COMP_WORDS=(runbook actions redis.g); COMP_CWORD=2; _runbook; echo "${COMPREPLY[@]}"
COMP_WORDS=(runbook show 20240520); COMP_CWORD=2; _runbook; echo "${COMPREPLY[@]}"`,
			[]string{"validate", "redis.get", "20240520-100000-aaaa"}},
		{"zsh", `compadd() { [[ $1 == -a ]] && print -l -- ${(P)2} }
compdef() { }
source <(runbook completion zsh)
words=(runbook val); CURRENT=2; _runbook
words=(runbook actions redis.g); CURRENT=3; _runbook
words=(runbook show 20240520); CURRENT=3; _runbook`,
			[]string{"validate", "redis.get", "20240520-100000-aaaa"}},
		{"fish", `runbook completion fish | source
complete -C 'runbook val'
complete -C 'runbook actions redis.g'
complete -C 'runbook show 20240520'`,
			[]string{"validate", "redis.get", "20240520-100000-aaaa"}},
	} {
		t.Run(tc.shell, func(t *testing.T) {
			if got := shellCompletion(t, tc.shell, tc.script); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s completed %q, want %q", tc.shell, got, tc.want)
			}
		})
	}
}
