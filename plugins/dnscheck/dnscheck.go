// Package dnscheck is the runbook plugin "dns": it looks names up with
// github.com/miekg/dns and checks the records against what a failover
// should have made them (the DR plan's "verify api.alpha-orion.com points
// to the new endpoints").
//
// It asks one configured server (a host:port, so tests and drills can use
// a local server such as dnscheck/dnsserver) or, by default, the system's
// first nameserver. A mismatch, an empty answer and NXDOMAIN are retryable
// failures: DNS changes take time to show, and a step's retry polls for them.
package dnscheck

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/miekg/dns"
)

// resolvConf is where the system's nameservers are listed.
const resolvConf = "/etc/resolv.conf"

// Plugin is the dns plugin.
type Plugin struct {
	sdk.Base

	mu       sync.RWMutex
	resolver string
	timeout  time.Duration
}

// New returns the dns plugin.
func New() sdk.Plugin { return &Plugin{timeout: DefaultTimeout} }

// Spec returns the plugin's catalogue entry.
func (*Plugin) Spec() catalog.Plugin { return Spec }

// Configure keeps the resolver and the timeout.
func (p *Plugin) Configure(_ context.Context, cfg map[string]any) error {
	resolver := ""
	if r, _ := cfg["resolver"].(string); r != "" {
		var err error
		if resolver, err = hostPort(r); err != nil {
			return sdk.BadInput("dns: resolver: %v", err)
		}
	}
	timeout := DefaultTimeout
	if d, ok := cfg["timeout"].(time.Duration); ok {
		if d <= 0 {
			return sdk.BadInput("dns: timeout must be positive, got %s", d)
		}
		timeout = d
	}
	p.mu.Lock()
	p.resolver, p.timeout = resolver, timeout
	p.mu.Unlock()
	return nil
}

// Plan says which lookup the step would make.
func (p *Plugin) Plan(_ context.Context, req sdk.Request) (sdk.Plan, error) {
	q, err := p.query(req)
	if err != nil {
		return sdk.Plan{}, err
	}
	return sdk.Plan{Summary: fmt.Sprintf("would look up %s %s via %s%s", q.name, q.typeName(), q.resolverText(), q.expectText())}, nil
}

// Execute runs the lookup and checks it.
func (p *Plugin) Execute(ctx context.Context, req sdk.Request, log sdk.Logger) (map[string]any, error) {
	if req.Action != "check" {
		return nil, sdk.Errorf(sdk.KindUnimplemented, "dns: no action %q", req.Action)
	}
	q, err := p.query(req)
	if err != nil {
		return nil, err
	}
	if q.resolver == "" {
		if q.resolver, err = systemResolver(); err != nil {
			return nil, err
		}
	}
	ans, err := q.exchange(ctx)
	if err != nil {
		return nil, err
	}
	log.Printf("%s %s via %s: %s, %s (ttl %ds)", q.name, q.typeName(), q.resolver, ans.rcode, listText(ans.records), ans.ttl)
	if ans.rcode == "NXDOMAIN" {
		return nil, sdk.Retryable(fmt.Errorf("dns: %s %s via %s: NXDOMAIN: the name does not exist (yet)", q.name, q.typeName(), q.resolver))
	}
	matched, why := q.match(ans.records)
	if !matched && q.failOnMismatch {
		return nil, sdk.Retryable(fmt.Errorf("dns: %s %s via %s: %s", q.name, q.typeName(), q.resolver, why))
	}
	return map[string]any{
		"records":  toAny(ans.records),
		"ttl":      ans.ttl,
		"matched":  matched,
		"rcode":    ans.rcode,
		"resolver": q.resolver,
	}, nil
}

// Reconcile answers NotApplied: a lookup changes nothing, so it can always run again.
func (*Plugin) Reconcile(context.Context, sdk.Request) (sdk.Reconciliation, error) {
	return sdk.Reconciliation{State: sdk.NotApplied}, nil
}

// query is one checked lookup, from a step's inputs.
type query struct {
	name           string
	qtype          uint16
	resolver       string
	timeout        time.Duration
	expect         []string // nil: no exact expectation
	contains       []string
	failOnMismatch bool
}

func (p *Plugin) query(req sdk.Request) (*query, error) {
	p.mu.RLock()
	q := &query{resolver: p.resolver, timeout: p.timeout, failOnMismatch: true}
	p.mu.RUnlock()
	in := req.Inputs
	q.name = strings.TrimSuffix(strings.TrimSpace(str(in["name"])), ".")
	if _, ok := dns.IsDomainName(q.name); !ok || q.name == "" {
		return nil, sdk.BadInput("dns: name %q is not a domain name", in["name"])
	}
	typ := strings.ToUpper(strings.TrimSpace(str(in["type"])))
	if typ == "" {
		typ = "A"
	}
	switch typ {
	case "A", "AAAA", "CNAME", "TXT":
		q.qtype = dns.StringToType[typ]
	default:
		return nil, sdk.BadInput("dns: type %q is not one of A, AAAA, CNAME, TXT", typ)
	}
	if r := str(in["resolver"]); r != "" {
		hp, err := hostPort(r)
		if err != nil {
			return nil, sdk.BadInput("dns: resolver: %v", err)
		}
		q.resolver = hp
	}
	var err error
	if v, ok := in["expect"]; ok && v != nil {
		if q.expect, err = q.values("expect", v); err != nil {
			return nil, err
		}
		if q.expect == nil {
			q.expect = []string{}
		}
	}
	if v, ok := in["expect_contains"]; ok && v != nil {
		if q.contains, err = q.values("expect_contains", v); err != nil {
			return nil, err
		}
	}
	if b, ok := in["fail_on_mismatch"].(bool); ok {
		q.failOnMismatch = b
	}
	return q, nil
}

// values reads an expectation: one string or a list, each value in the
// form records take.
func (q *query) values(input string, v any) ([]string, error) {
	var raw []any
	switch x := v.(type) {
	case []any:
		raw = x
	case string:
		raw = []any{x}
	default:
		return nil, sdk.BadInput("dns: %s must be a string or a list of strings, got %T", input, v)
	}
	var out []string
	for _, r := range raw {
		s, ok := r.(string)
		if !ok {
			return nil, sdk.BadInput("dns: %s: %v is not a string", input, r)
		}
		n, err := normalize(q.qtype, s)
		if err != nil {
			return nil, sdk.BadInput("dns: %s: %v", input, err)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// normalize gives a value the form records are reported in.
func normalize(t uint16, v string) (string, error) {
	v = strings.TrimSpace(v)
	switch t {
	case dns.TypeA, dns.TypeAAAA:
		ip, err := netip.ParseAddr(v)
		if err != nil || ip.Is4() != (t == dns.TypeA) {
			return "", fmt.Errorf("%q is not an %s record's address", v, dns.TypeToString[t])
		}
		return ip.String(), nil
	case dns.TypeCNAME:
		return strings.ToLower(strings.TrimSuffix(v, ".")), nil
	}
	return v, nil
}

// match checks records against the expectations and says why not.
func (q *query) match(records []string) (bool, string) {
	t := q.typeName()
	switch {
	case q.expect != nil && !slices.Equal(q.expect, records):
		return false, fmt.Sprintf("expected %s, got %s", listText(q.expect), listText(records))
	case len(q.contains) > 0:
		var missing []string
		for _, c := range q.contains {
			if !slices.Contains(records, c) {
				missing = append(missing, c)
			}
		}
		if len(missing) > 0 {
			return false, fmt.Sprintf("expected to contain %s, got %s", listText(missing), listText(records))
		}
	case q.expect == nil && len(records) == 0:
		return false, fmt.Sprintf("no %s records", t)
	}
	return true, ""
}

// answer is what a server said.
type answer struct {
	rcode   string
	records []string
	ttl     int
}

// exchange asks the resolver, over TCP again when the UDP answer is truncated.
func (q *query) exchange(ctx context.Context) (*answer, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(q.name), q.qtype)
	m.RecursionDesired = true
	r, err := q.exchangeNet(ctx, m, "udp")
	if err == nil && r.Truncated {
		r, err = q.exchangeNet(ctx, m, "tcp")
	}
	if err != nil {
		return nil, err
	}
	ans := &answer{rcode: dns.RcodeToString[r.Rcode]}
	if ans.rcode == "" {
		ans.rcode = fmt.Sprintf("RCODE%d", r.Rcode)
	}
	switch r.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
	case dns.RcodeServerFailure:
		return nil, sdk.Retryable(fmt.Errorf("dns: %s %s via %s: SERVFAIL: the server could not answer", q.name, q.typeName(), q.resolver))
	default:
		return nil, sdk.Permanent(fmt.Errorf("dns: %s %s via %s: %s", q.name, q.typeName(), q.resolver, ans.rcode))
	}
	first := true
	for _, rr := range r.Answer {
		v, ok := value(rr, q.qtype)
		if !ok {
			continue
		}
		ans.records = append(ans.records, v)
		if ttl := int(rr.Header().Ttl); first || ttl < ans.ttl {
			ans.ttl, first = ttl, false
		}
	}
	slices.Sort(ans.records)
	ans.records = slices.Compact(ans.records)
	return ans, nil
}

func (q *query) exchangeNet(parent context.Context, m *dns.Msg, network string) (*dns.Msg, error) {
	c := &dns.Client{Net: network, Timeout: q.timeout}
	ctx, cancel := context.WithTimeout(parent, q.timeout)
	defer cancel()
	r, _, err := c.ExchangeContext(ctx, m, q.resolver)
	if err == nil {
		return r, nil
	}
	if perr := parent.Err(); perr != nil {
		return nil, perr // the step was cancelled or ran out of time
	}
	return nil, sdk.Retryable(fmt.Errorf("dns: query %s %s via %s (%s): %v", q.name, q.typeName(), q.resolver, network, err))
}

// value returns the text of rr when it is an answer of type t.
func value(rr dns.RR, t uint16) (string, bool) {
	if rr.Header().Rrtype != t {
		return "", false
	}
	switch x := rr.(type) {
	case *dns.A:
		return x.A.String(), true
	case *dns.AAAA:
		return x.AAAA.String(), true
	case *dns.CNAME:
		return strings.ToLower(strings.TrimSuffix(x.Target, ".")), true
	case *dns.TXT:
		return strings.Join(x.Txt, ""), true
	}
	return "", false
}

func (q *query) typeName() string { return dns.TypeToString[q.qtype] }

func (q *query) resolverText() string {
	if q.resolver == "" {
		return "the system resolver"
	}
	return q.resolver
}

func (q *query) expectText() string {
	var parts []string
	if q.expect != nil {
		parts = append(parts, "expect "+listText(q.expect))
	}
	if len(q.contains) > 0 {
		parts = append(parts, "expect to contain "+listText(q.contains))
	}
	if len(parts) == 0 {
		return ""
	}
	return ", " + strings.Join(parts, ", ")
}

// systemResolver returns the first nameserver of the system's resolv.conf.
func systemResolver() (string, error) {
	cfg, err := dns.ClientConfigFromFile(resolvConf)
	if err != nil || len(cfg.Servers) == 0 {
		return "", sdk.BadInput("dns: no resolver configured and the system's cannot be read from %s (%v): set the plugin's resolver (host:port)", resolvConf, err)
	}
	return net.JoinHostPort(cfg.Servers[0], cfg.Port), nil
}

// hostPort checks a resolver address and adds port 53 when it has none.
func hostPort(s string) (string, error) {
	s = strings.TrimSpace(s)
	if host, port, err := net.SplitHostPort(s); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || host == "" || strings.Contains(host, "/") {
			return "", fmt.Errorf("%q is not host:port", s)
		}
		return s, nil
	}
	if strings.Contains(s, "/") || s == "" {
		return "", fmt.Errorf("%q is not host:port", s)
	}
	return net.JoinHostPort(strings.Trim(s, "[]"), "53"), nil
}

func listText(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	return "[" + strings.Join(v, ", ") + "]"
}

func toAny(v []string) []any {
	out := make([]any, len(v))
	for i, s := range v {
		out[i] = s
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
