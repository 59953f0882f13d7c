package emukit

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault makes matching requests fail with an HTTP status instead of being
// served, or be served late, or lose their connection.
type Fault struct {
	// Status is the HTTP status to answer, e.g. 503, 429 or Neon's 423;
	// 0 with Delay or Drop serves the request (late) or drops it.
	Status int
	// Times is how many matching requests fail; 0 means 1.
	Times int
	// Method limits the fault to one HTTP method; empty matches any.
	Method string
	// PathContains limits the fault to paths containing it; empty matches any.
	PathContains string
	// Message overrides the error message.
	Message string
	// AfterEffect makes the request take effect before the fault answers:
	// the handler runs and its answer is replaced, as when a gateway times
	// out on a request the backend did handle. A client cannot tell it from
	// a request that never arrived, so a blind retry repeats the effect.
	AfterEffect bool
	// Skip is how many matching requests are served normally before the
	// fault hits.
	Skip int
	// RetryAfter, when positive, sets the Retry-After header of the
	// answer: in whole seconds (rounded up), or as an HTTP-date that far
	// ahead when RetryAfterDate is set.
	RetryAfter     time.Duration
	RetryAfterDate bool
	// Delay holds the request that long before it is answered.
	Delay time.Duration
	// Drop closes the connection without an answer, as a load balancer
	// or a restarting server does.
	Drop bool
	// Label names the fault in PendingFaults.
	Label string
}

// retryAfter is the fault's Retry-After header value at now, or "".
func (f Fault) retryAfter(now time.Time) string {
	switch {
	case f.RetryAfter <= 0:
		return ""
	case f.RetryAfterDate:
		return now.Add(f.RetryAfter).UTC().Format(http.TimeFormat)
	}
	return strconv.Itoa(int((f.RetryAfter + time.Second - 1) / time.Second))
}

// matches reports whether the fault applies to r.
func (f Fault) matches(r *http.Request) bool {
	return (f.Method == "" || strings.EqualFold(f.Method, r.Method)) && strings.Contains(r.URL.Path, f.PathContains)
}

// Request is one request an emulator answered, for assertions.
type Request struct {
	Method string
	Path   string // without BasePath
	Query  string
	Status int
}

// InjectFault queues f; faults are consumed in the order they were added.
func (k *Kit) InjectFault(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.faults = append(k.faults, f)
}

// FailNext makes the next n requests, whatever they are, fail with status.
func (k *Kit) FailNext(n, status int) {
	k.InjectFault(Fault{Status: status, Times: n})
}

// SetLatency delays every response by d (0 turns it off).
func (k *Kit) SetLatency(d time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.latency = d
}

// ClearFaults drops every queued fault and the latency.
func (k *Kit) ClearFaults() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.faults, k.latency = nil, 0
}

// PendingFaults returns the faults not spent yet, as they stand (Skip and
// Times count down as requests match).
func (k *Kit) PendingFaults() []Fault {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]Fault(nil), k.faults...)
}

// Requests returns every request answered so far, oldest first.
func (k *Kit) Requests() []Request {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]Request(nil), k.requests...)
}

// takeFault consumes one use of the first fault matching r.
func (k *Kit) takeFault(r *http.Request) (Fault, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for i := range k.faults {
		f := &k.faults[i]
		if f.matches(r) {
			if f.Skip > 0 {
				f.Skip--
				continue
			}
			got := *f
			if f.Times--; f.Times == 0 {
				k.faults = append(k.faults[:i], k.faults[i+1:]...)
			}
			return got, true
		}
	}
	return Fault{}, false
}

// message returns the error message for f: its own, or the provider's
// wording for its status.
func (k *Kit) message(f Fault) string {
	if f.Message != "" {
		return f.Message
	}
	return k.opts.FaultMessage(f.Status)
}
