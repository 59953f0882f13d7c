package neonemu

import (
	"net/http"
	"time"

	"github.com/alpha-orion/runbook/plugins/internal/emukit"
)

// Fault makes matching requests fail with an HTTP status instead of being
// served; a fault without a message gets Neon's wording for its status.
type Fault = emukit.Fault

// Request is one request the emulator answered, for assertions.
type Request = emukit.Request

// faultMessage is Neon's wording for a fault's status.
func faultMessage(status int) string {
	switch status {
	case http.StatusLocked:
		return msgLocked
	case http.StatusServiceUnavailable:
		return "service temporarily unavailable, please retry"
	}
	return http.StatusText(status)
}

// msgLocked is what Neon says when operations are still running.
const msgLocked = "project already has running operations, scheduling of new ones is prohibited"

// InjectFault queues f; faults are consumed in the order they were added.
func (e *Emulator) InjectFault(f Fault) { e.kit.InjectFault(f) }

// FailNext makes the next n requests, whatever they are, fail with status.
func (e *Emulator) FailNext(n, status int) { e.kit.FailNext(n, status) }

// SetLatency delays every response by d (0 turns it off).
func (e *Emulator) SetLatency(d time.Duration) { e.kit.SetLatency(d) }

// FailNextOperations makes the next n operations created end in "failed".
func (e *Emulator) FailNextOperations(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failOps += n
}

// SlowNextOperation keeps the next operation created running for polls
// more GETs than usual, as a Neon operation on a large branch does.
func (e *Emulator) SlowNextOperation(polls int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.holdPolls = polls
}

// PendingFaults returns the injected faults not spent yet.
func (e *Emulator) PendingFaults() []Fault { return e.kit.PendingFaults() }

// SlowOperationPending reports whether SlowNextOperation still waits for
// an operation to slow down.
func (e *Emulator) SlowOperationPending() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.holdPolls > 0
}

// ClearFaults drops every queued fault, operation failure and latency.
func (e *Emulator) ClearFaults() {
	e.kit.ClearFaults()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failOps, e.holdPolls = 0, 0
}

// Requests returns every request answered so far, oldest first.
func (e *Emulator) Requests() []Request { return e.kit.Requests() }
