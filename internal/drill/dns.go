package drill

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/plugins/dnscheck/dnsserver"
	"github.com/miekg/dns"
)

// DNS stands in for the DNS provider behind api.alpha-orion.com: an
// authoritative server on loopback (dnsserver) that the dns plugin asks,
// and the provider's side of a change, which like a real provider's is
// visible only after a propagation delay. Runbooks that verify a DNS change
// therefore have to poll for it, as they would in production.
type DNS struct {
	srv *dnsserver.Server

	mu      sync.Mutex
	pending map[string]*time.Timer // by "name TYPE": the change not visible yet
	changes []DNSChange
	extra   time.Duration // a chaos drill's added propagation delay
	delayed int           // changes published with it
}

// DNSChange is one change that became visible.
type DNSChange struct {
	Name, Type string
	Values     []string
	At         time.Time
}

// dnsMu serialises starting the DNS stand-in: World keeps it in its memory.
var dnsMu sync.Mutex

const dnsKey = "dns"

// DNS starts (once) the drill's DNS server, with no records.
func (w *World) DNS() (*DNS, error) {
	dnsMu.Lock()
	defer dnsMu.Unlock()
	if d, ok := w.recall(dnsKey).(*DNS); ok {
		return d, nil
	}
	srv, err := dnsserver.Start(loopback(), nil)
	if err != nil {
		return nil, fmt.Errorf("drill: start DNS server: %w", err)
	}
	srv.SetTTL(5) // short, as a failover-ready record should be
	d := &DNS{srv: srv, pending: map[string]*time.Timer{}}
	w.remember(dnsKey, d)
	w.onClose(func() error {
		d.mu.Lock()
		for _, t := range d.pending {
			t.Stop()
		}
		d.mu.Unlock()
		return srv.Close()
	})
	return d, nil
}

// Addr is the server's host:port, for the dns plugin's resolver setting.
func (d *DNS) Addr() string { return d.srv.Addr() }

// Set makes records visible at once (the state before the incident).
func (d *DNS) Set(name, typ string, values ...string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t, ok := d.pending[dnsRecordKey(name, typ)]; ok {
		t.Stop()
		delete(d.pending, dnsRecordKey(name, typ))
	}
	return d.set(name, typ, values)
}

// Publish changes records the way the provider does after an API call: the
// change is visible after delay. A newer Publish of the same name and type
// replaces one still pending.
func (d *DNS) Publish(name, typ string, delay time.Duration, values ...string) {
	k := dnsRecordKey(name, typ)
	d.mu.Lock()
	defer d.mu.Unlock()
	if t, ok := d.pending[k]; ok {
		t.Stop()
	}
	var t *time.Timer
	if d.extra > 0 {
		d.delayed++
	}
	t = time.AfterFunc(delay+d.extra, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.pending[k] != t {
			return // replaced or cancelled meanwhile
		}
		delete(d.pending, k)
		_ = d.set(name, typ, values)
	})
	d.pending[k] = t
}

// set stores records and notes the change; call with mu held.
func (d *DNS) set(name, typ string, values []string) error {
	if err := d.srv.Set(name, typ, values); err != nil {
		return err
	}
	d.changes = append(d.changes, DNSChange{Name: name, Type: typ, Values: slices.Clone(values), At: time.Now()})
	return nil
}

// Changes returns the changes that became visible, oldest first.
func (d *DNS) Changes() []DNSChange {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.changes)
}

// Queries is how many queries the server answered.
func (d *DNS) Queries() int { return d.srv.Queries() }

// Lookup asks the server over the network, as a client would, and returns
// the values of the answers of type typ (CNAME targets without the final dot).
func (d *DNS) Lookup(ctx context.Context, name, typ string) ([]string, error) {
	t, ok := dns.StringToType[strings.ToUpper(typ)]
	if !ok {
		return nil, fmt.Errorf("dns: unknown type %q", typ)
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), t)
	c := &dns.Client{Timeout: 2 * time.Second}
	r, _, err := c.ExchangeContext(ctx, m, d.srv.Addr())
	if err != nil {
		return nil, fmt.Errorf("dns: look up %s %s: %w", name, typ, err)
	}
	if r.Rcode != dns.RcodeSuccess {
		return nil, fmt.Errorf("dns: look up %s %s: %s", name, typ, dns.RcodeToString[r.Rcode])
	}
	var out []string
	for _, rr := range r.Answer {
		if rr.Header().Rrtype != t {
			continue
		}
		switch x := rr.(type) {
		case *dns.CNAME:
			out = append(out, strings.TrimSuffix(x.Target, "."))
		case *dns.A:
			out = append(out, x.A.String())
		case *dns.AAAA:
			out = append(out, x.AAAA.String())
		case *dns.TXT:
			out = append(out, strings.Join(x.Txt, ""))
		}
	}
	return out, nil
}

func dnsRecordKey(name, typ string) string {
	return strings.ToLower(strings.TrimSuffix(name, ".")) + " " + strings.ToUpper(typ)
}
