package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// target is one database to connect to: the parsed URL, a description
// without the password for messages, and a masker for everything else.
type target struct {
	raw      string // the URL as given, password included
	config   *pgx.ConnConfig
	password string
	// where names the database for people: postgres://user@host:port/db.
	where string
	mask  func(string) string
}

// newTarget parses a connection URL (or keyword/value string). A parse
// error never quotes the URL.
func newTarget(raw string, connectTimeout time.Duration) (*target, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, sdk.BadInput("postgres: no connection URL: give the step a url input or set the plugin's url")
	}
	password := passwordOf(raw)
	mask := masker(password, raw)
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		return nil, sdk.BadInput("postgres: the connection URL is not valid: %s", mask(errText(err)))
	}
	if !strings.Contains(raw, "connect_timeout") {
		cfg.ConnectTimeout = connectTimeout
	}
	if cfg.Password != "" && cfg.Password != password {
		// From PGPASSWORD or a passfile: mask it too.
		mask = masker(password, raw, cfg.Password)
	}
	t := &target{raw: raw, config: cfg, password: cfg.Password, mask: mask}
	t.where = fmt.Sprintf("postgres://%s@%s/%s", cfg.User, net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)), cfg.Database)
	return t, nil
}

// passwordOf returns the password a URL or keyword/value string holds, so
// it can be masked even when the string cannot be parsed.
func passwordOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		if p, ok := u.User.Password(); ok {
			return p
		}
		return u.Query().Get("password")
	}
	if m := kvPassword.FindStringSubmatch(raw); m != nil {
		return strings.Trim(m[2], "'")
	}
	// An unparsable URL: take what sits between the user's colon and the @.
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if c := strings.Index(rest[:at], ":"); c >= 0 {
				return rest[c+1 : at]
			}
		}
	}
	return ""
}

var kvPassword = regexp.MustCompile(`(^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// masker returns a function that replaces each secret, raw and URL-escaped,
// with ***. Secrets shorter than 3 characters are masked only as part of
// the whole URL, to keep messages readable.
func masker(secrets ...string) func(string) string {
	var all []string
	for _, s := range secrets {
		if len(s) < 3 {
			continue
		}
		all = append(all, s, url.QueryEscape(s), url.PathEscape(s), strings.ReplaceAll(url.QueryEscape(s), "+", "%20"))
	}
	if len(all) == 0 {
		return func(s string) string { return s }
	}
	sort.Slice(all, func(i, j int) bool { return len(all[i]) > len(all[j]) })
	pairs := make([]string, 0, 2*len(all))
	for _, s := range all {
		pairs = append(pairs, s, "***")
	}
	return strings.NewReplacer(pairs...).Replace
}

// connect opens a connection, classifying failures.
func (t *target) connect(ctx context.Context, call string) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, t.config.Copy())
	if err != nil {
		return nil, t.fail(ctx, call, err)
	}
	return conn, nil
}

// fail wraps err as "postgres: CALL on WHERE: cause" with a kind, the
// password masked.
func (t *target) fail(ctx context.Context, call string, err error) error {
	return sdk.WithKind(classify(ctx, err), errors.New(t.mask(fmt.Sprintf("postgres: %s on %s: %s", call, t.where, errText(err)))))
}

// errText is an error's message, with a PostgreSQL error's code and detail.
func errText(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		s := fmt.Sprintf("%s: %s (SQLSTATE %s)", pg.Severity, pg.Message, pg.Code)
		if pg.Detail != "" {
			s += "; " + pg.Detail
		}
		if pg.Hint != "" {
			s += "; hint: " + pg.Hint
		}
		if pg.Position > 0 {
			s += fmt.Sprintf("; at character %d", pg.Position)
		}
		return s
	}
	return err.Error()
}

// classify gives a driver error its kind: connection trouble and transient
// server states are retryable, refused credentials are unauthenticated, a
// missing database is not found, bad SQL is bad input.
func classify(ctx context.Context, err error) sdk.Kind {
	if ctx.Err() != nil {
		return sdk.KindOf(ctx.Err())
	}
	var se *sdk.Error
	if errors.As(err, &se) && se.Kind != "" {
		return se.Kind
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return sqlstateKind(pg.Code)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err):
		return sdk.KindRetryable
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, syscall.EPIPE):
		return sdk.KindRetryable
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.As(err, &dnsErr), errors.As(err, &opErr):
		return sdk.KindRetryable
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), pgconn.SafeToRetry(err):
		return sdk.KindRetryable // the server went away
	}
	return sdk.KindPermanent
}

// sqlstateKind maps a SQLSTATE to a kind.
func sqlstateKind(code string) sdk.Kind {
	switch code {
	case "28P01", "28000": // invalid_password, invalid_authorization_specification
		return sdk.KindUnauthenticated
	case "3D000": // invalid_catalog_name: no such database
		return sdk.KindNotFound
	case "42501": // insufficient_privilege
		return sdk.KindPermissionDenied
	case "57P01", "57P02", "57P03", "40001", "40P01", "55P03": // shutdowns, starting up, serialization, deadlock, lock not available
		return sdk.KindRetryable
	}
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"): // connection exceptions, insufficient resources
		return sdk.KindRetryable
	case strings.HasPrefix(code, "42"): // syntax errors and undefined objects
		return sdk.KindBadInput
	}
	return sdk.KindPermanent
}

// psqlConn returns the connection string for a client tool, the password
// left out (it travels in PGPASSWORD, never on a command line that ps can
// show) and application_name set to appName when given.
func (t *target) psqlConn(appName string) string {
	if u, err := url.Parse(t.raw); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		if u.User != nil {
			u.User = url.User(u.User.Username())
		}
		q := u.Query()
		q.Del("password")
		if appName != "" {
			q.Set("application_name", appName)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	if strings.Contains(t.raw, "://") {
		// A URL Go cannot parse, such as a multi-host one: drop user:password's password.
		s := t.raw
		if p := passwordOf(s); p != "" {
			s = strings.Replace(s, ":"+p+"@", "@", 1)
		}
		if appName != "" {
			sep := "?"
			if strings.Contains(s, "?") {
				sep = "&"
			}
			s += sep + "application_name=" + appName
		}
		return s
	}
	s := strings.TrimSpace(kvPassword.ReplaceAllString(t.raw, "$1"))
	if appName != "" {
		s += " application_name=" + appName
	}
	return s
}

// toolEnv is the environment of a client tool run against t.
func (t *target) toolEnv(env []string) []string {
	out := make([]string, 0, len(env)+2)
	for _, e := range env {
		if !strings.HasPrefix(e, "PGPASSWORD=") {
			out = append(out, e)
		}
	}
	if t.password != "" {
		out = append(out, "PGPASSWORD="+t.password)
	}
	if t.config.ConnectTimeout > 0 {
		out = append(out, fmt.Sprintf("PGCONNECT_TIMEOUT=%d", max(2, int(t.config.ConnectTimeout.Seconds()))))
	}
	return out
}
