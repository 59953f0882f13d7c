package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/internal/testenv"
)

// TestServeOneBadArguments checks that a wrong stand-in or flag ends the
// program at once with a failure and a message saying what went wrong.
func TestServeOneBadArguments(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "runbook-sandbox")
	if err := testenv.Build(bin, "./cmd/runbook-sandbox"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown stand-in", []string{"serve", "heroku"}, "neon, render"},
		{"extra argument", []string{"serve", "render", "now"}, `"render now"`},
		{"unknown flag", []string{"serve", "neon", "--port", "1"}, "flag provided but not defined: -port"},
		{"bad address", []string{"serve", "render", "--addr", "nowhere:-1"}, "listen"},
		{"unknown command", []string{"start"}, "usage: runbook-sandbox"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, tc.args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(time.Minute):
				_ = cmd.Process.Kill()
				t.Fatalf("%v did not end", tc.args)
			}
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() == 0 {
				t.Fatalf("%v: %v, want a failure", tc.args, err)
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("%v said %q, want %q in it", tc.args, stderr.String(), tc.want)
			}
		})
	}
}
