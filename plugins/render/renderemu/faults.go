package renderemu

import (
	"net/http"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/plugins/internal/emukit"
)

// Fault makes matching requests fail with an HTTP status instead of being
// served; a fault without a message gets Render's wording for its status.
type Fault = emukit.Fault

// Request is one request the emulator answered, for assertions.
type Request = emukit.Request

// faultMessage is Render's wording for a fault's status.
func faultMessage(status int) string {
	if status == http.StatusTooManyRequests {
		return "rate limit exceeded"
	}
	return strings.ToLower(http.StatusText(status))
}

// InjectFault queues f; faults are consumed in the order they were added.
func (e *Emulator) InjectFault(f Fault) { e.kit.InjectFault(f) }

// FailNext makes the next n requests, whatever they are, fail with status.
func (e *Emulator) FailNext(n, status int) { e.kit.FailNext(n, status) }

// SetLatency delays every response by d (0 turns it off).
func (e *Emulator) SetLatency(d time.Duration) { e.kit.SetLatency(d) }

// PendingFaults returns the injected faults not spent yet.
func (e *Emulator) PendingFaults() []Fault { return e.kit.PendingFaults() }

// FailNextDeploys makes the next n deploys created end in build_failed.
func (e *Emulator) FailNextDeploys(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failDeploys += n
}

// AnswerNextDeploysWithoutBody makes the next n deploy creations answer 202
// with no body, which Render may do, instead of 201 with the deploy; the
// deploys are still created (see Deploys).
func (e *Emulator) AnswerNextDeploysWithoutBody(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.noBody += n
}

// ClearFaults drops every queued fault, deploy failure and latency.
func (e *Emulator) ClearFaults() {
	e.kit.ClearFaults()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failDeploys, e.noBody = 0, 0
}

// Requests returns every request answered so far, oldest first.
func (e *Emulator) Requests() []Request { return e.kit.Requests() }
