package httpapi

import (
	"strings"
	"time"

	"github.com/alpha-orion/runbook/plugins/sdk"
)

// Settings are the configuration keys every API plugin has: api_key,
// base_url, retries, retry_delay, poll_interval and request_timeout.
type Settings struct {
	APIKey         string
	BaseURL        string // without a trailing slash once Read
	Retries        int
	RetryDelay     time.Duration
	PollInterval   time.Duration
	RequestTimeout time.Duration
}

// Read takes the keys m sets over s (the defaults), and trims the base
// URL's trailing slash. An empty base_url keeps the default; api_key is
// always taken, as it has no default.
func (s *Settings) Read(m map[string]any) {
	s.APIKey, _ = m["api_key"].(string)
	SetString(&s.BaseURL, m, "base_url")
	if v, ok := m["retries"].(int); ok {
		s.Retries = v
	}
	SetDuration(&s.RetryDelay, m, "retry_delay")
	SetDuration(&s.PollInterval, m, "poll_interval")
	SetDuration(&s.RequestTimeout, m, "request_timeout")
	s.BaseURL = strings.TrimRight(s.BaseURL, "/")
}

// Check returns a BadInput error, naming provider, for the first setting
// that is wrong; keyRef is how the key is meant to be passed, e.g.
// "${{ secrets.NEON_API_KEY }}".
func (s Settings) Check(provider, keyRef string) error {
	switch {
	case strings.TrimSpace(s.APIKey) == "":
		return sdk.BadInput("%s: configure: api_key is empty (pass %s)", provider, keyRef)
	case !strings.HasPrefix(s.BaseURL, "http://") && !strings.HasPrefix(s.BaseURL, "https://"):
		return sdk.BadInput("%s: configure: base_url must start with https:// (or http:// for an emulator)", provider)
	case s.Retries < 0 || s.Retries > 50:
		return sdk.BadInput("%s: configure: retries must be from 0 to 50, not %d", provider, s.Retries)
	case s.RetryDelay <= 0 || s.PollInterval <= 0 || s.RequestTimeout <= 0:
		return sdk.BadInput("%s: configure: retry_delay, poll_interval and request_timeout must be positive", provider)
	}
	return nil
}

// SetString sets *dst to the string m holds at key, unless it is absent or empty.
func SetString(dst *string, m map[string]any, key string) {
	if v, ok := m[key].(string); ok && v != "" {
		*dst = v
	}
}

// SetDuration sets *dst to the duration m holds at key, if any.
func SetDuration(dst *time.Duration, m map[string]any, key string) {
	if v, ok := m[key].(time.Duration); ok {
		*dst = v
	}
}
