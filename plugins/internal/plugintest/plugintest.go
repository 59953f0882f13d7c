// Package plugintest helps test a runbook plugin the way the engine runs it:
// the test binary serves the plugin when the host re-executes it
// (ServeOrRun), a Harness drives it through a real plugin process, and
// canaries (API keys, passwords) are looked for in every error and log line,
// none of which may show them.
//
// It also has the small helpers plugin tests keep writing: WantKind for an
// error's kind and words, a Recorder of the requests a client sends, Send for
// raw calls to an emulator, the example-runbook lint check, and SQL helpers.
package plugintest

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/alpha-orion/runbook/plugins/host"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/hashicorp/go-plugin"
)

// ServeIfPlugin serves the built-in plugin the arguments name when a
// host.Manager re-executes the test binary, then exits; otherwise it
// returns. Call it first in TestMain.
func ServeIfPlugin(builtins map[string]func() sdk.Plugin) {
	served, err := host.ServeIfPlugin(os.Args[1:], builtins)
	if !served {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(0)
}

// ServeOrRun is a whole TestMain: it serves a plugin when the host
// re-executes the test binary (see ServeIfPlugin), and otherwise runs the
// tests and kills any plugin process a test left running.
func ServeOrRun(m *testing.M, builtins map[string]func() sdk.Plugin) {
	ServeIfPlugin(builtins)
	code := m.Run()
	plugin.CleanupClients()
	os.Exit(code)
}

// WantKind fails the test unless err has kind and mentions each of words.
func WantKind(t testing.TB, err error, kind sdk.Kind, words ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", kind)
	}
	if got := sdk.KindOf(err); got != kind {
		t.Errorf("kind = %s, want %s (%v)", got, kind, err)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

// Canaries are values that must never be printed; the zero value has none.
// It is safe for concurrent use.
type Canaries struct {
	mu     sync.Mutex
	values []string
}

// Add makes values canaries; empty ones are ignored.
func (c *Canaries) Add(values ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range values {
		if v != "" {
			c.values = append(c.values, v)
		}
	}
}

// Check fails the test at once when a canary shows in one of texts.
func (c *Canaries) Check(t testing.TB, texts ...string) {
	t.Helper()
	c.mu.Lock()
	values := append([]string(nil), c.values...)
	c.mu.Unlock()
	for _, s := range values {
		for _, text := range texts {
			if strings.Contains(text, s) {
				t.Fatalf("secret %q leaked: %s", s, text)
			}
		}
	}
}

// Buffer is a bytes.Buffer safe for concurrent writers, such as a host's log.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
