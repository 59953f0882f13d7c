package terraform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/alpha-orion/runbook/plugins/sdk"
)

// uiMessage is one line of Terraform's machine-readable UI (-json).
type uiMessage struct {
	Level      string      `json:"@level"`
	Message    string      `json:"@message"`
	Type       string      `json:"type"`
	Diagnostic *diagnostic `json:"diagnostic"`
	Changes    *struct {
		Add       int    `json:"add"`
		Change    int    `json:"change"`
		Remove    int    `json:"remove"`
		Operation string `json:"operation"`
	} `json:"changes"`
}

// diagnostic is an error or warning Terraform reports.
type diagnostic struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail"`
	Range    *struct {
		Filename string `json:"filename"`
		Start    struct {
			Line   int `json:"line"`
			Column int `json:"column"`
		} `json:"start"`
	} `json:"range"`
}

// String is "Summary (file:line): detail" on one line.
func (d diagnostic) String() string {
	s := d.Summary
	if d.Range != nil && d.Range.Filename != "" {
		s += fmt.Sprintf(" (%s:%d)", d.Range.Filename, d.Range.Start.Line)
	}
	if detail := oneLine(d.Detail); detail != "" {
		s += ": " + detail
	}
	return s
}

// quiet are message types too chatty for a step's log.
var quiet = map[string]bool{
	"version": true, "outputs": true, "diagnostic": true, "apply_start": true, "apply_progress": true,
	"refresh_start": true, "refresh_complete": true, "provision_progress": true,
}

// ui reads a command's -json output as it comes: progress goes to the
// step's log, diagnostics and the change summary are kept.
type ui struct {
	log sdk.Logger

	mu      sync.Mutex
	partial []byte
	diags   []diagnostic
	summary *uiMessage
	other   []string // lines that were not JSON
}

func newUI(log sdk.Logger) *ui { return &ui{log: log} }

// Write takes a chunk of output; complete lines are handled at once.
func (u *ui) Write(b []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.partial = append(u.partial, b...)
	for {
		i := bytes.IndexByte(u.partial, '\n')
		if i < 0 {
			return len(b), nil
		}
		u.line(u.partial[:i])
		u.partial = u.partial[i+1:]
	}
}

// flush handles a last line without a newline.
func (u *ui) flush() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(bytes.TrimSpace(u.partial)) > 0 {
		u.line(u.partial)
	}
	u.partial = nil
}

func (u *ui) line(b []byte) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return
	}
	var m uiMessage
	if b[0] != '{' || json.Unmarshal(b, &m) != nil {
		u.other = append(u.other, string(b))
		u.log.Printf("%s", b)
		return
	}
	if m.Diagnostic != nil {
		u.diags = append(u.diags, *m.Diagnostic)
		if m.Diagnostic.Severity == "warning" {
			u.log.Warnf("Warning: %s", m.Diagnostic)
		}
	}
	if m.Type == "change_summary" && m.Changes != nil {
		u.summary = &m
	}
	if !quiet[m.Type] && m.Message != "" {
		u.log.Printf("%s", m.Message)
	}
}

// errors returns the error diagnostics.
func (u *ui) errors() []diagnostic {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []diagnostic
	for _, d := range u.diags {
		if d.Severity != "warning" {
			out = append(out, d)
		}
	}
	return out
}

// transient matches the causes a later attempt may not meet.
var transient = regexp.MustCompile(`(?i)state lock|timeout|timed out|connection refused|connection reset|` +
	`too many requests|temporarily unavailable|internal server error|bad gateway|service unavailable|\b(429|500|502|503|504)\b`)

// fail builds a failed command's error: its diagnostics when Terraform
// gave some, else what it printed. Terraform's errors are permanent, but
// for a held state lock, a timeout or an API that is down, which are
// retryable; a command that failed without a diagnostic (killed, crashed)
// is left unclassified.
func (s *session) fail(ctx context.Context, op string, u *ui, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr // the step was cancelled or ran out of time
	}
	var diags []diagnostic
	if u != nil {
		diags = u.errors()
	}
	prefix := fmt.Sprintf("terraform: %s in %s", op, s.dirName)
	if len(diags) == 0 {
		return fmt.Errorf("%s: %s", prefix, clip(cleanStderr(err.Error()), 2000))
	}
	parts := make([]string, len(diags))
	retry := false
	for i, d := range diags {
		parts[i] = "Error: " + d.String()
		retry = retry || transient.MatchString(d.Summary+" "+d.Detail)
	}
	e := fmt.Errorf("%s: %s", prefix, strings.Join(parts, "; "))
	if retry {
		return sdk.Retryable(e)
	}
	return sdk.Permanent(e)
}

// cleanStderr drops the boxes Terraform draws and its complaint about a
// missing CLI configuration file, and joins the rest on one line.
func cleanStderr(s string) string {
	var keep []string
	skip := false
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "╷│╵"))
		switch {
		case strings.Contains(t, "problems with the CLI configuration"), strings.Contains(t, "Unable to open CLI configuration file"):
			skip = true
			continue
		case skip && strings.Contains(t, "CLI configuration file at"):
			skip = false
			continue
		case t == "":
			continue
		}
		keep = append(keep, t)
	}
	return strings.Join(keep, " ")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
