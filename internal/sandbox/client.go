package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"time"

	"github.com/alpha-orion/runbook/internal/chaos"
)

// MissingError reports a local program a drill needs that is not installed.
type MissingError struct {
	Program string
	Reason  string
}

// Error names the program and how to get it.
func (e *MissingError) Error() string { return e.Reason }

// Client is the core's connection to one sandbox process. Its calls are
// made one at a time (it is not safe for concurrent use).
type Client struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *json.Decoder
	enc  *json.Encoder
	done chan struct{}
	err  error // how the process ended, once done is closed
}

// Start starts `path serve`. What the sandbox prints besides its answers
// (its own log) goes to logw.
func Start(path string, logw io.Writer) (*Client, error) {
	cmd := exec.Command(path, "serve")
	cmd.Stderr = logw
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the drill sandbox %s: %w", path, err)
	}
	c := &Client{cmd: cmd, in: in, out: json.NewDecoder(out), enc: json.NewEncoder(in), done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// call sends one request and reads its answer. A cancelled ctx kills the
// sandbox (its stand-ins stop with it when it handles the signal).
func (c *Client) call(ctx context.Context, req Request) (*Response, error) {
	if err := c.enc.Encode(req); err != nil {
		return nil, c.died(err)
	}
	type result struct {
		resp Response
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		var r result
		r.err = c.out.Decode(&r.resp)
		ch <- r
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, c.died(r.err)
		}
		if r.resp.Error != "" {
			if r.resp.Missing != "" {
				return &r.resp, &MissingError{Program: r.resp.Missing, Reason: r.resp.Error}
			}
			return &r.resp, errors.New(r.resp.Error)
		}
		return &r.resp, nil
	case <-ctx.Done():
		c.Close()
		return nil, ctx.Err()
	}
}

// died explains a broken pipe by how the sandbox ended.
func (c *Client) died(err error) error {
	select {
	case <-c.done:
		if c.err != nil {
			return fmt.Errorf("the drill sandbox died: %w", c.err)
		}
		return errors.New("the drill sandbox exited unexpectedly")
	case <-time.After(2 * time.Second):
		return fmt.Errorf("the drill sandbox stopped answering: %w", err)
	}
}

// Drills lists the runbooks the sandbox can drill.
func (c *Client) Drills(ctx context.Context) ([]Drill, error) {
	r, err := c.call(ctx, Request{Op: OpList})
	if err != nil {
		return nil, err
	}
	return r.Drills, nil
}

// Stage starts the stand-ins of runbook's drill and stages its incident.
func (c *Client) Stage(ctx context.Context, runbook string) (*Stage, error) {
	return c.StageChaos(ctx, runbook, nil)
}

// StageChaos stages runbook's drill as Stage does and arms the stand-ins
// with plan's faults (none when plan is nil).
func (c *Client) StageChaos(ctx context.Context, runbook string, plan *chaos.Plan) (*Stage, error) {
	r, err := c.call(ctx, Request{Op: OpStage, Runbook: runbook, Chaos: plan})
	if err != nil {
		return nil, err
	}
	if r.Stage == nil {
		return nil, errors.New("the drill sandbox staged nothing")
	}
	return r.Stage, nil
}

// Verify checks the staged drill's end state.
func (c *Client) Verify(ctx context.Context) ([]Check, error) {
	checks, _, err := c.VerifyChaos(ctx)
	return checks, err
}

// VerifyChaos checks the staged drill's end state, and says which faults
// of its plan hit the run (see ChaosHandler).
func (c *Client) VerifyChaos(ctx context.Context) ([]Check, []string, error) {
	r, err := c.call(ctx, Request{Op: OpVerify})
	if err != nil {
		return nil, nil, err
	}
	return r.Checks, r.Faults, nil
}

// Queue tells the sandbox the drills to come, in order, so it can stage
// each while the one before it runs.
func (c *Client) Queue(ctx context.Context, runbooks []string) error {
	_, err := c.call(ctx, Request{Op: OpQueue, Runbooks: runbooks})
	return err
}

// CloseDrill stops the staged drill's stand-ins.
func (c *Client) CloseDrill(ctx context.Context) error {
	_, err := c.call(ctx, Request{Op: OpClose})
	return err
}

// Close ends the sandbox: it closes its input, which makes it stop every
// stand-in and exit, and kills it if it has not within ten seconds.
func (c *Client) Close() error {
	c.in.Close()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
	return nil
}
