package neonemu

import (
	"net/http"
	"strings"
	"time"
)

// Fault makes matching requests fail with an HTTP status instead of being served.
type Fault struct {
	// Status is the HTTP status to answer, e.g. 503 or 423.
	Status int
	// Times is how many matching requests fail; 0 means 1.
	Times int
	// Method limits the fault to one HTTP method; empty matches any.
	Method string
	// PathContains limits the fault to paths containing it; empty matches any.
	PathContains string
	// Message overrides the error message.
	Message string
}

// message returns the error message for the fault, Neon's wording by default.
func (f Fault) message() string {
	switch {
	case f.Message != "":
		return f.Message
	case f.Status == http.StatusLocked:
		return msgLocked
	case f.Status == http.StatusServiceUnavailable:
		return "service temporarily unavailable, please retry"
	}
	return http.StatusText(f.Status)
}

// msgLocked is what Neon says when operations are still running.
const msgLocked = "project already has running operations, scheduling of new ones is prohibited"

// Request is one request the emulator answered, for assertions.
type Request struct {
	Method string
	Path   string // without BasePath
	Query  string
	Status int
}

// InjectFault queues f; faults are consumed in the order they were added.
func (e *Emulator) InjectFault(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, f)
}

// FailNext makes the next n requests, whatever they are, fail with status.
func (e *Emulator) FailNext(n, status int) {
	e.InjectFault(Fault{Status: status, Times: n})
}

// SetLatency delays every response by d (0 turns it off).
func (e *Emulator) SetLatency(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.latency = d
}

// FailNextOperations makes the next n operations created end in "failed".
func (e *Emulator) FailNextOperations(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failOps += n
}

// ClearFaults drops every queued fault, operation failure and latency.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults, e.failOps, e.latency = nil, 0, 0
}

// takeFault consumes one use of the first fault matching r.
func (e *Emulator) takeFault(r *http.Request) (Fault, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.faults {
		f := &e.faults[i]
		if (f.Method == "" || strings.EqualFold(f.Method, r.Method)) && strings.Contains(r.URL.Path, f.PathContains) {
			got := *f
			if f.Times--; f.Times == 0 {
				e.faults = append(e.faults[:i], e.faults[i+1:]...)
			}
			return got, true
		}
	}
	return Fault{}, false
}

// Requests returns every request answered so far, oldest first.
func (e *Emulator) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Request(nil), e.requests...)
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the status and passes it on.
func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
