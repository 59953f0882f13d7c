package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
	"google.golang.org/grpc"
)

// PluginArg is the hidden first argument that makes the runbook binary
// serve one of its built-in plugins: `runbook __plugin NAME`.
const PluginArg = "__plugin"

// ExternalPrefix starts the file name of every external plugin.
const ExternalPrefix = "runbook-plugin-"

// ChecksumError reports an external plugin whose file does not match its pin.
type ChecksumError struct {
	Plugin string
	Path   string
	Want   string // the pin, hex
	Got    string // the file's SHA-256, hex
}

// Error names the file and both digests.
func (e *ChecksumError) Error() string {
	return fmt.Sprintf("plugin %s: refusing to start %s: its SHA-256 is %s, but the pin is %s", e.Plugin, e.Path, e.Got, e.Want)
}

// launchHook, when set by a test, is called as each launch begins.
var launchHook func(name string)

// SHA256File returns the hex SHA-256 of a file, the form Options.Pins takes.
func SHA256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// launch starts a plugin process and prepares it for steps: handshake,
// Describe, checks, Configure.
func (m *Manager) launch(ctx context.Context, name string) (*proc, error) {
	if launchHook != nil {
		launchHook(name)
	}
	cmd, err := m.command(name)
	if err != nil {
		return nil, err
	}
	ids, err := m.hostTLS()
	if err != nil {
		return nil, sdk.Errorf(sdk.KindPermanent, "start plugin %s: make TLS identities: %w", name, err)
	}
	// Only what the plugin is given: go-plugin's own runner would add this
	// process's whole environment, RUNBOOK_SECRET_* included.
	env := pluginEnv(environ(), m.opts.Env[name], m.opts.Config[name], ids.Env())
	// A plugin's output arrives in pieces of any size; whole lines go on,
	// so a secret split between two writes is masked downstream.
	stdout, stderr := newLineWriter(m.out), newLineWriter(m.out)
	pc := &proc{out: []*lineWriter{stdout, stderr}}
	pc.client = plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.VersionedPlugins(nil),
		// Our runner, not Cmd: it starts the process with env alone (plus
		// go-plugin's handshake variables, in pcmd.Env) and can kill it
		// during the handshake.
		RunnerFunc: func(_ hclog.Logger, pcmd *exec.Cmd, _ string) (runner.Runner, error) {
			r, err := newProcRunner(cmd.Path, cmd.Args[1:], append(slices.Clone(env), pcmd.Env...))
			if err != nil {
				return nil, err
			}
			pc.setRunner(r)
			return r, nil
		},
		SkipHostEnv:      true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		TLSConfig:        ids.Config(),
		Managed:          true,
		Logger:           m.logger,
		StartTimeout:     m.opts.StartTimeout,
		SyncStdout:       stdout,
		SyncStderr:       stderr,
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(sdk.MaxMessageSize), grpc.MaxCallSendMsgSize(sdk.MaxMessageSize))},
	})
	if !m.starting(pc, true) {
		return nil, errClosed
	}
	defer m.starting(pc, false)
	// A start that hangs (no handshake) ends with the run: cancelling ctx
	// or closing the Manager kills the process.
	stop := context.AfterFunc(ctx, pc.abort)
	defer stop()
	if err := m.prepare(ctx, name, pc); err != nil {
		pc.abort()
		if ctx.Err() != nil {
			return nil, sdk.WithKind(sdk.KindOf(ctx.Err()), fmt.Errorf("start plugin %s: %w", name, ctx.Err()))
		}
		return nil, err
	}
	return pc, nil
}

func (m *Manager) prepare(ctx context.Context, name string, pc *proc) error {
	client := pc.client
	ctx, cancel := context.WithTimeout(ctx, m.opts.StartTimeout)
	defer cancel()
	conn, err := client.Client()
	if err != nil {
		return sdk.Errorf(sdk.KindCrashed, "start plugin %s: %w", name, err)
	}
	pid := pc.pid()
	if m.opts.OnStart != nil {
		m.opts.OnStart(name, pid)
	}
	raw, err := conn.Dispense(sdk.PluginKey)
	if err != nil {
		return sdk.Errorf(sdk.KindPermanent, "start plugin %s: %w", name, err)
	}
	rpc := raw.(*sdk.Client)
	spec, err := rpc.Describe(ctx)
	if err != nil {
		return fmt.Errorf("describe plugin %s: %w", name, err)
	}
	if spec.Name != name {
		return sdk.Errorf(sdk.KindPermanent, "plugin %s describes itself as %q", name, spec.Name)
	}
	if m.opts.Catalog != nil {
		if want, ok := m.opts.Catalog.Plugin(name); ok {
			if err := CheckSpec(*want, spec); err != nil {
				return sdk.Permanent(err)
			}
		}
	}
	if err := rpc.Configure(ctx, m.opts.Config[name]); err != nil {
		return fmt.Errorf("configure plugin %s: %w", name, err)
	}
	pc.rpc, pc.spec = rpc, spec
	return nil
}

// command returns how to start the named plugin: for an external one, a
// private copy of the pinned bytes.
func (m *Manager) command(name string) (*exec.Cmd, error) {
	if slices.Contains(m.opts.Builtins, name) {
		exe := m.opts.Executable
		if exe == "" {
			var err error
			if exe, err = os.Executable(); err != nil {
				return nil, sdk.Errorf(sdk.KindPermanent, "start built-in plugin %s: %w", name, err)
			}
		}
		args := []string{PluginArg, name}
		if m.opts.BuiltinArgs != nil {
			args = m.opts.BuiltinArgs(name)
		}
		return exec.Command(exe, args...), nil
	}
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return nil, sdk.NotFound("no plugin %q", name)
	}
	if slices.Contains(m.opts.Providers, name) {
		path, err := m.findProvider(name)
		if err != nil {
			return nil, err
		}
		return exec.Command(path), nil
	}
	if m.opts.Dir == "" {
		return nil, sdk.NotFound("no plugin %s: it is not a shipped provider, and no plugin folder is set", name)
	}
	path, err := filepath.Abs(filepath.Join(m.opts.Dir, ExternalPrefix+name))
	if err != nil {
		return nil, sdk.Errorf(sdk.KindPermanent, "plugin %s: %w", name, err)
	}
	pin, ok := m.opts.Pins[name]
	if !ok {
		got, err := SHA256File(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, sdk.NotFound("no plugin %s: it is not a shipped provider, and there is no %s", name, path)
		}
		if err != nil {
			return nil, sdk.Errorf(sdk.KindPermanent, "plugin %s: %w", name, err)
		}
		return nil, sdk.Errorf(sdk.KindPermanent, "plugin %s: refusing to start %s: it is not pinned (its SHA-256 is %s)", name, path, got)
	}
	want, err := hex.DecodeString(strings.TrimSpace(pin))
	if err != nil || len(want) != sha256.Size {
		return nil, sdk.BadInput("plugin %s: the pin %q is not a hex SHA-256", name, pin)
	}
	// Run the bytes that were checked: a private copy named by its hash,
	// so replacing the file in the plugin folder after the check cannot
	// run unpinned code.
	exe, err := m.pinnedCopy(name, path, hex.EncodeToString(want))
	if err != nil {
		return nil, err
	}
	return exec.Command(exe), nil
}

// findProvider returns the executable of a shipped provider (see FindExecutable).
func (m *Manager) findProvider(name string) (string, error) {
	path, err := FindExecutable(ExternalPrefix+name, append(slices.Clone(m.opts.Search), m.opts.Dir)...)
	if err != nil {
		return "", sdk.NotFound("no plugin %s: %v", name, err)
	}
	return path, nil
}

// FindExecutable returns the absolute path of the executable file in the
// first of dirs that has it, else on PATH. When there is none, the error
// says where it looked and how to build it.
func FindExecutable(file string, dirs ...string) (string, error) {
	var looked []string
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		path, err := filepath.Abs(filepath.Join(dir, file))
		if err != nil {
			continue
		}
		if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return path, nil
		}
		looked = append(looked, filepath.Dir(path))
	}
	if path, err := exec.LookPath(file); err == nil {
		return filepath.Abs(path)
	}
	into := "the folder of the runbook executable"
	if len(looked) > 0 {
		into = looked[0]
	}
	where := "on PATH"
	if len(looked) > 0 {
		where = "in " + strings.Join(looked, ", ") + " or on PATH"
	}
	return "", fmt.Errorf("%s is not %s; it is built with the core: `go build -o %s/ ./cmd/...` in the runbook source builds the core, every provider and the drill sandbox into one folder", file, where, into)
}
