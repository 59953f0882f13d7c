package cli

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// terminal runs the runbook executable on a pseudo-terminal of the given
// width, as an operator's shell would, and records everything it draws.
type terminal struct {
	t    *testing.T
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func startTerminal(t *testing.T, dir string, env []string, cols uint16, args ...string) *terminal {
	t.Helper()
	cmd := runbookCmd(dir, env, args...)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: cols})
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, cmd: cmd, tty: tty, done: make(chan struct{})}
	go func() {
		defer close(term.done)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill(); tty.Close() })
	return term
}

// screen returns what was drawn so far.
func (term *terminal) screen() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

// waitFor waits until the output contains s, or fails after a minute.
func (term *terminal) waitFor(s string) {
	term.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(term.screen(), s) {
		if time.Now().After(deadline) {
			term.t.Fatalf("never saw %q; the terminal shows:\n%q", s, term.screen())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wait waits for the program to exit and returns its exit code.
func (term *terminal) wait() int {
	term.t.Helper()
	err := term.cmd.Wait()
	select {
	case <-term.done:
	case <-time.After(5 * time.Second):
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		term.t.Fatal(err)
	}
	return 0
}

const promptRunbook = `apiVersion: runbook/v1
kind: Runbook
metadata: {name: prompt}
objectives: {rto: 4h}
steps:
  - {id: a-rather-long-step-name-that-fills-the-status-line, uses: wait, with: {duration: 2500ms}}
  - id: gate
    needs: [a-rather-long-step-name-that-fills-the-status-line]
    uses: approval
    with: {message: "Flip the switch to frankfurt?"}
  - {id: after, needs: [gate], uses: log, with: {message: "switched"}}
`

// TestPromptStaysOnScreen answers an approval on a terminal: the live
// status line is drawn while a step runs, fits the terminal, and is not
// redrawn while the question waits for an answer, so the question stays
// on screen and the answer is typed after it.
func TestPromptStaysOnScreen(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "prompt.yaml"), []byte(promptRunbook), 0o644)
	term := startTerminal(t, dir, []string{"TERM=xterm-256color"}, 60, "run", "prompt.yaml")
	term.waitFor("\x1b[7m") // the status line, drawn while the wait step runs
	term.waitFor("Approve as ")
	before := len(term.screen())
	time.Sleep(2500 * time.Millisecond) // two redraws of the status line, were it not held
	after := term.screen()[before:]
	if after != "" {
		t.Errorf("the terminal changed while the question waited for an answer: %q", after)
	}
	io.WriteString(term.tty, "y\n")
	if code := term.wait(); code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, term.screen())
	}
	for _, line := range strings.Split(term.screen(), "\r\x1b[K") {
		if i := strings.Index(line, "\x1b[7m"); i >= 0 {
			bar := line[i+len("\x1b[7m"):]
			bar, _, _ = strings.Cut(bar, "\x1b[0m")
			if n := len([]rune(bar)); n > 58 {
				t.Errorf("a status line of %d columns on a 60-column terminal: %q", n, bar)
			}
		}
	}
	if !strings.Contains(term.screen(), "switched") {
		t.Errorf("the run did not go on after the answer:\n%s", term.screen())
	}
}

// TestDumbTerminalGetsNoCursorCodes runs on a TERM=dumb terminal: no
// status line, no escape sequences at all; and under NO_COLOR no styling.
func TestDumbTerminalGetsNoCursorCodes(t *testing.T) {
	tests := []struct {
		name     string
		env      []string
		wantLive bool
	}{
		{"dumb", []string{"TERM=dumb"}, false},
		{"no color", []string{"TERM=xterm", "NO_COLOR=1"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "prompt.yaml"), []byte(promptRunbook), 0o644)
			term := startTerminal(t, dir, tt.env, 80, "run", "prompt.yaml", "--yes")
			if code := term.wait(); code != ExitOK {
				t.Fatalf("exit %d:\n%s", code, term.screen())
			}
			out := term.screen()
			if strings.Contains(out, "\x1b[7m") {
				t.Errorf("styled status line under %v", tt.env)
			}
			if live := strings.Contains(out, "\x1b[K"); live != tt.wantLive {
				t.Errorf("status line drawn: %t, want %t (env %v):\n%q", live, tt.wantLive, tt.env, out)
			}
			if !strings.Contains(out, "Flip the switch to frankfurt?") {
				t.Errorf("--yes hid the approval's text:\n%s", out)
			}
		})
	}
}
