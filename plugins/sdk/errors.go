package sdk

import (
	"context"
	"errors"
	"fmt"
)

// Kind classifies a failure so the engine can decide whether to retry it.
type Kind string

// The kinds of failure. A plugin reports most of them; the host adds
// KindCrashed, KindCanceled and KindDeadlineExceeded for calls that fail on
// the way.
const (
	KindUnknown          Kind = "unknown"           // an error nobody classified
	KindPermanent        Kind = "permanent"         // will fail again however often it is retried
	KindRetryable        Kind = "retryable"         // transient: a retry may succeed
	KindBadInput         Kind = "bad_input"         // the inputs or configuration are wrong
	KindNotFound         Kind = "not_found"         // something the step names does not exist
	KindUnauthenticated  Kind = "unauthenticated"   // credentials missing or refused
	KindPermissionDenied Kind = "permission_denied" // credentials do not allow this
	KindConflict         Kind = "conflict"          // the target's state conflicts with the request
	KindCanceled         Kind = "canceled"          // the call was cancelled
	KindDeadlineExceeded Kind = "deadline_exceeded" // the call ran out of time
	KindUnimplemented    Kind = "unimplemented"     // the plugin does not implement this
	KindCrashed          Kind = "crashed"           // the plugin process died during the call
)

// Retryable reports whether another attempt may succeed: true for
// KindRetryable, KindCrashed, KindDeadlineExceeded and KindUnknown (an
// unclassified error gets the benefit of the doubt).
func (k Kind) Retryable() bool {
	switch k {
	case KindRetryable, KindCrashed, KindDeadlineExceeded, KindUnknown:
		return true
	}
	return false
}

// Error is an error with a Kind; it survives the trip from plugin to host.
type Error struct {
	Kind Kind
	Err  error
}

// Error returns the wrapped error's message.
func (e *Error) Error() string {
	if e.Err == nil {
		return string(e.Kind)
	}
	return e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *Error) Unwrap() error { return e.Err }

// Errorf formats an error of the given kind; %w wraps as in fmt.Errorf.
func Errorf(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Err: fmt.Errorf(format, args...)}
}

// WithKind gives err a kind, keeping its message; nil stays nil.
func WithKind(kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: kind, Err: err}
}

// Retryable marks err as transient: a retry may succeed. nil stays nil.
func Retryable(err error) error { return WithKind(KindRetryable, err) }

// Permanent marks err as one a retry cannot fix. nil stays nil.
func Permanent(err error) error { return WithKind(KindPermanent, err) }

// BadInput reports inputs or configuration the plugin cannot use.
func BadInput(format string, args ...any) error { return Errorf(KindBadInput, format, args...) }

// NotFound reports that something the step names does not exist.
func NotFound(format string, args ...any) error { return Errorf(KindNotFound, format, args...) }

// Unauthenticated reports missing or refused credentials.
func Unauthenticated(format string, args ...any) error {
	return Errorf(KindUnauthenticated, format, args...)
}

// Conflict reports a target whose state conflicts with the request.
func Conflict(format string, args ...any) error { return Errorf(KindConflict, format, args...) }

// KindOf returns the kind of err: the outermost Kind in its chain, else
// KindCanceled or KindDeadlineExceeded for context errors, else KindUnknown.
// It returns "" for nil.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Kind != "" {
		return e.Kind
	}
	switch {
	case errors.Is(err, context.Canceled):
		return KindCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return KindDeadlineExceeded
	}
	return KindUnknown
}
