// Package httpapi is the JSON-over-HTTP client the provider plugins (neon,
// render) share: bearer auth, a per-request timeout, and retries with capped
// exponential backoff for transient statuses and network failures, honouring
// Retry-After. Its errors carry the sdk kind the status means, name the
// provider, the call and the cause, and never carry the API key or any other
// value the caller hides.
//
// What differs between providers is a field of Client: which statuses
// besides 429 and 5xx are transient (Neon's 423), how an error body becomes
// a message (Neon's {code, message, request_id}, Render's {id, message}),
// and the words of the hints.
package httpapi

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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/plugins/sdk"
)

// Client calls one provider's API. Set its fields before the first call;
// it is then safe for concurrent use.
type Client struct {
	// Provider names the provider in errors and hints, e.g. "neon".
	Provider string
	// KeyScope is what an API key gives access to, for the hint of a 403,
	// e.g. "project" or "workspace".
	KeyScope string
	// BaseURL is the API's root without a trailing slash, e.g.
	// https://console.neon.tech/api/v2.
	BaseURL string
	// Key is the bearer token.
	Key string
	// HTTP sends the requests; nil means a client shared by every Client.
	HTTP *http.Client
	// Retries is how many extra attempts follow the first.
	Retries int
	// Delay is the first backoff, doubled after each retry.
	Delay time.Duration
	// MaxDelay caps each backoff, and the wait a Retry-After asks for.
	MaxDelay time.Duration
	// RequestTimeout bounds each attempt.
	RequestTimeout time.Duration
	// Log receives a warning before each retry; nil means none.
	Log sdk.Logger
	// RetryStatuses are the statuses retried besides 429 and 5xx, e.g. 423.
	RetryStatuses []int
	// ErrorMessage turns an error body into a message, or "" when the body
	// is not the provider's error shape (then a piece of the body is quoted).
	ErrorMessage func(body []byte) string
	// Hide are values (besides Key) no error may show, e.g. a variable's value.
	Hide []string
}

// sharedHTTP is used by every Client without its own; requests carry their
// own timeouts.
var sharedHTTP = &http.Client{}

// maxErrorText bounds how much of an API error message an error quotes.
const maxErrorText = 300

// maxBody bounds how much of an answer is read.
const maxBody = 32 << 20

// Call sends one request, retrying transient failures, and decodes a 2xx
// JSON answer into out (when out is not nil). op names the call in errors,
// e.g. "restore branch br-x".
func (c *Client) Call(ctx context.Context, op, method, path string, query url.Values, body, out any) error {
	return c.Retry(ctx, func(ctx context.Context) (bool, error) {
		return c.Once(ctx, op, method, path, query, body, out)
	})
}

// Retry runs attempt until it succeeds, fails for good, or the retry budget
// is spent; attempt reports whether its error is worth another try. A spent
// budget gives a retryable error, so the step's retry policy can take over.
func (c *Client) Retry(ctx context.Context, attempt func(context.Context) (bool, error)) error {
	delay := c.Delay
	for n := 1; ; n++ {
		again, err := attempt(ctx)
		if err == nil || !again {
			return err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%v; gave up: %w", err, ctxErr)
		}
		if n > c.Retries {
			return sdk.Retryable(fmt.Errorf("%w (gave up after %d attempts)", err, n))
		}
		wait := min(delay, c.MaxDelay)
		if ra := retryAfter(err); ra > 0 {
			wait = min(ra, c.MaxDelay)
		}
		if c.Log != nil {
			c.Log.Warnf("%v; retrying in %s (attempt %d of %d)", err, wait, n+1, c.Retries+1)
		}
		if serr := Sleep(ctx, wait); serr != nil {
			return fmt.Errorf("%v; gave up: %w", err, serr)
		}
		delay *= 2
	}
}

// Once makes a single request; the bool says whether a retry may help.
func (c *Client) Once(ctx context.Context, op, method, path string, query url.Values, body, out any) (bool, error) {
	u := c.BaseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return false, sdk.Permanent(fmt.Errorf("%s: %s: encode request: %w", c.Provider, op, err))
		}
		rd = bytes.NewReader(b)
	}
	rctx, cancel := context.WithTimeout(ctx, c.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, u, rd)
	if err != nil {
		return false, sdk.BadInput("%s: %s: bad request (check base_url): %v", c.Provider, op, scrubURLError(err))
	}
	req.Header.Set("Authorization", "Bearer "+c.Key)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = sharedHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return c.transportError(ctx, op, "", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return c.transportError(ctx, op, "read answer: ", err)
	}
	if resp.StatusCode/100 == 2 {
		if out == nil || len(bytes.TrimSpace(raw)) == 0 {
			return false, nil
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return false, sdk.Permanent(fmt.Errorf("%s: %s: unexpected answer (%s): %v", c.Provider, op, resp.Status, err))
		}
		return false, nil
	}
	return c.statusError(op, resp, raw)
}

// transportError is a failure to send or read: the caller's cancellation,
// or a network failure worth a retry.
func (c *Client) transportError(ctx context.Context, op, what string, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, fmt.Errorf("%s: %s: %w", c.Provider, op, ctx.Err())
	}
	return true, sdk.Retryable(fmt.Errorf("%s: %s: %s%v", c.Provider, op, what, scrubURLError(err)))
}

// statusError turns a non-2xx answer into an error of the right kind.
func (c *Client) statusError(op string, resp *http.Response, raw []byte) (bool, error) {
	msg := fmt.Sprintf("%s: %s: %s", c.Provider, op, resp.Status)
	if detail := c.errorText(raw); detail != "" {
		msg += ": " + detail
	}
	err := errors.New(msg)
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		return false, sdk.Unauthenticated("%s (check the %s api_key setting)", msg, c.Provider)
	case code == http.StatusForbidden:
		return false, sdk.Errorf(sdk.KindPermissionDenied, "%s (the api_key may not access this %s)", msg, c.KeyScope)
	case code == http.StatusNotFound:
		return false, sdk.WithKind(sdk.KindNotFound, err)
	case code == http.StatusConflict:
		return false, sdk.WithKind(sdk.KindConflict, err)
	case code == http.StatusTooManyRequests, code >= 500, slices.Contains(c.RetryStatuses, code):
		return true, &retryableStatus{err: sdk.Retryable(err), after: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	case code == http.StatusBadRequest, code == http.StatusUnprocessableEntity:
		return false, sdk.WithKind(sdk.KindBadInput, err)
	}
	return false, sdk.Permanent(err)
}

// errorText is the message of an error body (the provider's, or a short
// piece of a body it does not recognise), with the hidden values masked.
func (c *Client) errorText(raw []byte) string {
	text := ""
	if c.ErrorMessage != nil {
		text = c.ErrorMessage(raw)
	}
	if text == "" {
		text = strings.TrimSpace(string(raw))
	}
	if len(text) > maxErrorText {
		text = text[:maxErrorText] + "…"
	}
	return c.mask(text)
}

// mask hides the API key and the values in Hide.
func (c *Client) mask(text string) string {
	for _, s := range append([]string{c.Key}, c.Hide...) {
		if s != "" {
			text = strings.ReplaceAll(text, s, "***")
		}
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

// maxRetryAfter bounds what a Retry-After is read as, before MaxDelay
// caps the wait: a huge number must not overflow into a negative wait.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After header (RFC 9110, section 10.2.3):
// a number of seconds, or an HTTP-date, read against now. A date in the
// past, zero and anything else give 0: the client's own backoff then
// decides. Huge values are bounded by maxRetryAfter.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseUint(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if err != nil || n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		return time.Duration(n) * time.Second
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	return min(max(at.Sub(now), 0), maxRetryAfter)
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

// Sleep waits for d or until ctx is done, whose error it then returns.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
