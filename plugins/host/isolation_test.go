package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/redact"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/alpha-orion/runbook/plugins/testplugin"
)

// probe is the test plugin with two more behaviours of its echo action:
// text "env" logs its environment, one variable a line; message
// "stderr" writes its input secret to stderr and stdout, cut in two writes.
type probe struct{ *testplugin.Plugin }

func init() {
	builtins["probe"] = func() sdk.Plugin { return probe{testplugin.Named("probe")} }
}

// Spec adds two settings that name environment variables.
func (p probe) Spec() catalog.Plugin {
	s := p.Plugin.Spec()
	s.Config = append(slices.Clone(s.Config),
		catalog.Field{Name: "key_file_env", Type: catalog.String}, catalog.Field{Name: "password_env", Type: catalog.String})
	return s
}

// Execute adds the probes to echo.
func (p probe) Execute(ctx context.Context, req sdk.Request, log sdk.Logger) (map[string]any, error) {
	switch req.Inputs["text"] {
	case "env":
		for _, kv := range os.Environ() {
			log.Printf("%s", kv)
		}
	case "stderr":
		s, _ := req.Inputs["secret"].(string)
		for _, f := range []*os.File{os.Stderr, os.Stdout} {
			fmt.Fprintf(f, "token=%s", s[:len(s)/2])
			f.Sync()
			time.Sleep(50 * time.Millisecond) // let the first half travel on its own
			fmt.Fprintf(f, "%s and more\n", s[len(s)/2:])
		}
	}
	return p.Plugin.Execute(ctx, req, log)
}

// TestPluginEnvironment starts a plugin from an engine whose environment
// holds secrets and other variables, and lists what the plugin sees.
func TestPluginEnvironment(t *testing.T) {
	for k, v := range map[string]string{
		"RUNBOOK_SECRET_DB_PASSWORD": "hunter2-leak",
		"RUNBOOK_SECRET_KEYSTORE":    "named-explicitly",
		"AWS_SECRET_ACCESS_KEY":      "not-for-plugins",
		"MY_KEY_FILE":                "/keys/owner",
		"TF_LOG":                     "info",
		"HOME":                       "/home/op",
		"LC_TIME":                    "C",
		"https_proxy":                "http://proxy:3128",
	} {
		t.Setenv(k, v)
	}
	m, _ := newManager(t, Options{
		Env:    map[string][]string{"probe": {"TF_*"}},
		Config: map[string]map[string]any{"probe": {"key_file_env": "MY_KEY_FILE", "password_env": "RUNBOOK_SECRET_KEYSTORE"}},
	})
	var lines []string
	_, err := m.Execute(context.Background(), "probe", sdk.Request{Action: "echo", Inputs: map[string]any{"text": "env"}}, func(l sdk.LogLine) {
		lines = append(lines, l.Message)
	})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, "=")
		env[k] = v
	}
	for _, tc := range []struct {
		name, want string // want "" means absent
	}{
		{"RUNBOOK_SECRET_DB_PASSWORD", ""},
		{"AWS_SECRET_ACCESS_KEY", ""},
		{"RUNBOOK_SECRET_KEYSTORE", "named-explicitly"}, // its config names it
		{"MY_KEY_FILE", "/keys/owner"},                  // key_file_env names it
		{"TF_LOG", "info"},                              // Options.Env, a prefix
		{"HOME", "/home/op"},
		{"LC_TIME", "C"},
		{"https_proxy", "http://proxy:3128"},
		{"PATH", os.Getenv("PATH")},
		{"PLUGIN_PROTOCOL_VERSIONS", "1"}, // go-plugin's own
	} {
		if got := env[tc.name]; got != tc.want {
			t.Errorf("%s = %q in the plugin, want %q", tc.name, got, tc.want)
		}
	}
	if env["RUNBOOK_HOST_TEST_ENGINE"] != "" || len(env) > 40 {
		t.Errorf("the plugin sees more than it was given: %d variables", len(env))
	}
}

// TestSplitOutputMasked has a plugin write a secret to stderr and stdout
// in two writes, and checks the masked log never shows it.
func TestSplitOutputMasked(t *testing.T) {
	t.Parallel()
	const secret = "split-secret-0123456789"
	var buf syncBuffer
	r := redact.New(secret)
	m, _ := newManager(t, Options{Log: r.Writer(&buf)})
	if _, err := m.Execute(context.Background(), "probe", sdk.Request{Action: "echo", Inputs: map[string]any{"text": "stderr", "secret": secret}}, nil); err != nil {
		t.Fatal(err)
	}
	m.Close()
	got := buf.String()
	if strings.Contains(got, secret[:len(secret)/2]) || strings.Contains(got, secret[len(secret)/2:]) {
		t.Fatalf("a half of the secret reached the log:\n%s", got)
	}
	if n := strings.Count(got, "token=*** and more"); n != 2 {
		t.Fatalf("want the two lines masked whole, got:\n%s", got)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestHungStartKilled starts a pinned plugin that never completes its
// handshake, then ends the run (cancel, or Close) and checks the process
// is gone.
func TestHungStartKilled(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"cancel", "close"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			pidFile := filepath.Join(dir, "pid")
			path := filepath.Join(dir, ExternalPrefix+"hang")
			script := "#!/bin/sh\necho $$ > " + pidFile + ".tmp && mv " + pidFile + ".tmp " + pidFile + "\nexec sleep 600\n"
			if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			pin, _ := SHA256File(path)
			m, _ := newManager(t, Options{Dir: dir, CacheDir: filepath.Join(dir, "cache"), Pins: map[string]string{"hang": pin}, StartTimeout: time.Hour})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { _, err := m.Describe(ctx, "hang"); done <- err }()
			pid := waitPID(t, pidFile)
			if how == "cancel" {
				cancel()
			} else {
				m.Close()
			}
			if err := <-done; err == nil {
				t.Fatal("a plugin that never answered the handshake started")
			}
			m.Close()
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Fatalf("plugin process %d outlived the run (kill 0: %v)", pid, err)
			}
		})
	}
}

func waitPID(t *testing.T, file string) int {
	t.Helper()
	for {
		b, err := os.ReadFile(file)
		if err == nil {
			var pid int
			if _, err := fmt.Sscan(string(b), &pid); err == nil {
				return pid
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}
