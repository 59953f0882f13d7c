package neon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/plugins/sdk"
)

// api is a small JSON-over-HTTP client for the Neon API: bearer auth, a
// per-request timeout, and retries with capped exponential backoff for the
// statuses Neon documents as transient (423, 429, 5xx) and for network
// failures. Its errors name the provider, the call and the cause, and never
// carry the API key.
type api struct {
	base           string // ends without a slash, e.g. https://console.neon.tech/api/v2
	key            string
	client         *http.Client
	retries        int           // extra attempts after the first
	delay          time.Duration // first backoff; doubled each time
	maxDelay       time.Duration
	requestTimeout time.Duration
	log            sdk.Logger // may be nil
}

// maxErrorText bounds how much of an API error message an error quotes.
const maxErrorText = 300

// call sends one request, retrying transient failures, and decodes a 2xx
// JSON answer into out (when out is not nil). op names the call in errors,
// e.g. "restore branch br-x".
func (a *api) call(ctx context.Context, op, method, path string, query url.Values, body, out any) error {
	return a.retry(ctx, func(ctx context.Context) (bool, error) {
		return a.once(ctx, op, method, path, query, body, out)
	})
}

// retry runs attempt until it succeeds, fails for good, or the retry budget
// is spent; attempt reports whether its error is worth another try.
func (a *api) retry(ctx context.Context, attempt func(context.Context) (bool, error)) error {
	delay := a.delay
	for n := 1; ; n++ {
		again, err := attempt(ctx)
		if err == nil || !again {
			return err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%v; gave up: %w", err, ctxErr)
		}
		if n > a.retries {
			return sdk.Retryable(fmt.Errorf("%w (gave up after %d attempts)", err, n))
		}
		wait := min(delay, a.maxDelay)
		if ra := retryAfter(err); ra > 0 {
			wait = min(ra, a.maxDelay)
		}
		if a.log != nil {
			a.log.Warnf("%v; retrying in %s (attempt %d of %d)", err, wait, n+1, a.retries+1)
		}
		if serr := sleep(ctx, wait); serr != nil {
			return fmt.Errorf("%v; gave up: %w", err, serr)
		}
		delay *= 2
	}
}

// once makes a single request; the bool says whether a retry may help.
func (a *api) once(ctx context.Context, op, method, path string, query url.Values, body, out any) (bool, error) {
	u := a.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return false, sdk.Permanent(fmt.Errorf("neon: %s: encode request: %w", op, err))
		}
		rd = bytes.NewReader(b)
	}
	rctx, cancel := context.WithTimeout(ctx, a.requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, u, rd)
	if err != nil {
		return false, sdk.BadInput("neon: %s: bad request (check base_url): %v", op, scrubURLError(err))
	}
	req.Header.Set("Authorization", "Bearer "+a.key)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return false, fmt.Errorf("neon: %s: %w", op, ctx.Err())
		}
		return true, sdk.Retryable(fmt.Errorf("neon: %s: %v", op, scrubURLError(err)))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		if ctx.Err() != nil {
			return false, fmt.Errorf("neon: %s: %w", op, ctx.Err())
		}
		return true, sdk.Retryable(fmt.Errorf("neon: %s: read answer: %v", op, scrubURLError(err)))
	}
	if resp.StatusCode/100 == 2 {
		if out == nil || len(bytes.TrimSpace(raw)) == 0 {
			return false, nil
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return false, sdk.Permanent(fmt.Errorf("neon: %s: unexpected answer (%s): %v", op, resp.Status, err))
		}
		return false, nil
	}
	return a.statusError(op, resp, raw)
}

// statusError turns a non-2xx answer into an error of the right kind.
func (a *api) statusError(op string, resp *http.Response, raw []byte) (bool, error) {
	msg := fmt.Sprintf("neon: %s: %s", op, resp.Status)
	if detail := a.errorText(raw); detail != "" {
		msg += ": " + detail
	}
	err := errors.New(msg)
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		return false, sdk.Unauthenticated("%s (check the neon api_key setting)", msg)
	case code == http.StatusForbidden:
		return false, sdk.Errorf(sdk.KindPermissionDenied, "%s (the api_key may not access this project)", msg)
	case code == http.StatusNotFound:
		return false, sdk.WithKind(sdk.KindNotFound, err)
	case code == http.StatusConflict:
		return false, sdk.WithKind(sdk.KindConflict, err)
	case code == http.StatusLocked, code == http.StatusTooManyRequests, code >= 500:
		return true, &retryableStatus{err: sdk.Retryable(err), after: parseRetryAfter(resp.Header.Get("Retry-After"))}
	case code == http.StatusBadRequest, code == http.StatusUnprocessableEntity:
		return false, sdk.WithKind(sdk.KindBadInput, err)
	}
	return false, sdk.Permanent(err)
}

// errorText extracts Neon's {"code", "message", "request_id"} from an error
// body, or a short piece of a body that is not JSON, with the key masked.
func (a *api) errorText(raw []byte) string {
	var e struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
	}
	text := strings.TrimSpace(string(raw))
	if json.Unmarshal(raw, &e) == nil && e.Message != "" {
		text = e.Message
		if e.Code != "" {
			text = e.Code + ": " + text
		}
		if e.RequestID != "" {
			text += " (request_id " + e.RequestID + ")"
		}
	}
	if len(text) > maxErrorText {
		text = text[:maxErrorText] + "…"
	}
	if a.key != "" {
		text = strings.ReplaceAll(text, a.key, "***")
	}
	return text
}

// retryableStatus is a transient HTTP failure, with the server's Retry-After.
type retryableStatus struct {
	err   error
	after time.Duration
}

func (r *retryableStatus) Error() string { return r.err.Error() }
func (r *retryableStatus) Unwrap() error { return r.err }

// retryAfter returns the wait a transient failure asked for, or 0.
func retryAfter(err error) time.Duration {
	var r *retryableStatus
	if errors.As(err, &r) {
		return r.after
	}
	return 0
}

// parseRetryAfter reads a Retry-After header in seconds; dates are ignored.
func parseRetryAfter(v string) time.Duration {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return 0
}

// scrubURLError drops the request URL from a transport error: it may hold
// user information, and the call is already named.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		var ne net.Error
		if errors.As(ue.Err, &ne) && ne.Timeout() {
			return errors.New("request timed out")
		}
		return ue.Err
	}
	return err
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
