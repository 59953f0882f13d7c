package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"

	"github.com/hashicorp/go-plugin/runner"
)

// procRunner starts a plugin process for go-plugin (ClientConfig.RunnerFunc)
// the way go-plugin's own command runner does, with two differences: the
// environment is only what the host gives (see pluginEnv), and the process
// can be killed at any moment, in its handshake too, when go-plugin's
// Client.Kill would wait for the handshake to time out first.
type procRunner struct {
	cmd            *exec.Cmd
	stdout, stderr io.ReadCloser

	mu     sync.Mutex
	pid    int
	killed bool
}

var _ runner.Runner = (*procRunner)(nil)

// newProcRunner prepares path with args; env is the whole environment.
func newProcRunner(path string, args, env []string) (*procRunner, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = env
	setGroup(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	return &procRunner{cmd: cmd, stdout: stdout, stderr: stderr}, nil
}

// Start starts the process, unless it was killed before it could start.
func (r *procRunner) Start(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.killed {
		return errors.New("the plugin was stopped before it started")
	}
	if err := r.cmd.Start(); err != nil {
		return err
	}
	r.pid = r.cmd.Process.Pid
	return nil
}

// Wait waits for the process to exit.
func (r *procRunner) Wait(context.Context) error { return r.cmd.Wait() }

// Kill kills the process and anything it started.
func (r *procRunner) Kill(context.Context) error {
	r.stop()
	return nil
}

// stop kills the process group; safe at any time, from any goroutine.
func (r *procRunner) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.killed = true
	if r.pid > 0 {
		killGroup(r.pid)
		_ = r.cmd.Process.Kill() // os.ErrProcessDone: it is gone already
	}
}

// Stdout is the process's standard output, where go-plugin reads the handshake.
func (r *procRunner) Stdout() io.ReadCloser { return r.stdout }

// Stderr is the process's standard error.
func (r *procRunner) Stderr() io.ReadCloser { return r.stderr }

// Name is the executable's path.
func (r *procRunner) Name() string { return r.cmd.Path }

// ID is the process id.
func (r *procRunner) ID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprint(r.pid)
}

// Diagnose says what usually makes a plugin fail its handshake.
func (r *procRunner) Diagnose(context.Context) string {
	return "the plugin may be built for another architecture, lack a library, not be executable, or not speak the runbook plugin protocol"
}

// PluginToHost keeps addresses as they are: plugin and host share a machine.
func (r *procRunner) PluginToHost(n, a string) (string, string, error) { return n, a, nil }

// HostToPlugin keeps addresses as they are.
func (r *procRunner) HostToPlugin(n, a string) (string, string, error) { return n, a, nil }
