// Package dnsserver is a tiny authoritative DNS server for tests and
// `runbook drill`: it answers A, AAAA, CNAME and TXT queries from records
// held in memory, over UDP and TCP on one loopback port, so the dns plugin
// can verify a failover without touching real DNS.
//
// Names it holds no record for get NXDOMAIN; a name it knows, asked for a
// type it lacks, gets an empty NOERROR answer. A CNAME is followed through
// the server's own records, as a recursive resolver would.
package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// DefaultTTL is the TTL of every answer unless Server.SetTTL changes it.
const DefaultTTL = 60

// Types are the record types the server holds.
var Types = []string{"A", "AAAA", "CNAME", "TXT"}

// Server is a running DNS server; its methods are safe for concurrent use.
type Server struct {
	udp, tcp *dns.Server
	addr     string

	mu      sync.RWMutex
	records map[key][]string
	ttl     uint32
	queries int

	closeOnce sync.Once
	closeErr  error
}

// key identifies a record set: a lower-case fully qualified name and a type.
type key struct {
	name string
	typ  uint16
}

// Start serves records on addr ("127.0.0.1:0" picks a free port; UDP and
// TCP share it). A records key is "NAME TYPE" ("api.example.com CNAME"), or
// a bare NAME whose values are IP addresses (A or AAAA by their form).
func Start(addr string, records map[string][]string) (*Server, error) {
	s := &Server{records: map[key][]string{}, ttl: DefaultTTL}
	names := make([]string, 0, len(records))
	for k := range records {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		name, typ, _ := strings.Cut(strings.TrimSpace(k), " ")
		if err := s.set(name, strings.TrimSpace(typ), records[k]); err != nil {
			return nil, err
		}
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := s.listen(addr); err != nil {
		return nil, err
	}
	return s, nil
}

// listen binds UDP and then TCP on the same port, trying again with another
// free port when TCP finds the UDP port taken.
func (s *Server) listen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("dnsserver: address %q: %w", addr, err)
	}
	for attempt := 0; ; attempt++ {
		pc, err := net.ListenPacket("udp", net.JoinHostPort(host, port))
		if err != nil {
			return fmt.Errorf("dnsserver: listen udp: %w", err)
		}
		bound := pc.LocalAddr().(*net.UDPAddr)
		l, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(bound.Port)))
		if err != nil {
			pc.Close()
			if port == "0" && attempt < 5 {
				continue
			}
			return fmt.Errorf("dnsserver: listen tcp: %w", err)
		}
		s.addr = net.JoinHostPort(host, fmt.Sprint(bound.Port))
		s.udp = &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serve)}
		s.tcp = &dns.Server{Listener: l, Handler: dns.HandlerFunc(s.serve)}
		return s.activate()
	}
}

// activate serves both sockets and waits until both are serving.
func (s *Server) activate() error {
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		wg.Add(1)
		var once sync.Once
		srv.NotifyStartedFunc = func() { once.Do(wg.Done) }
		go func() {
			if err := srv.ActivateAndServe(); err != nil {
				errs <- err
				once.Do(wg.Done)
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		_ = s.Close()
		return fmt.Errorf("dnsserver: serve: %w", err)
	default:
		return nil
	}
}

// Addr returns the host:port the server answers on, over UDP and TCP.
func (s *Server) Addr() string { return s.addr }

// Set replaces the records of name and type (A, AAAA, CNAME or TXT); no
// values removes them.
func (s *Server) Set(name, typ string, values []string) error {
	return s.set(name, typ, values)
}

// SetTTL sets the TTL of every later answer.
func (s *Server) SetTTL(ttl uint32) {
	s.mu.Lock()
	s.ttl = ttl
	s.mu.Unlock()
}

// Queries returns how many queries the server has answered.
func (s *Server) Queries() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.queries
}

// Close stops the server; calling it again is a no-op.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var errs []error
		for _, srv := range []*dns.Server{s.udp, s.tcp} {
			if srv != nil {
				if err := srv.ShutdownContext(ctx); err != nil && !strings.Contains(err.Error(), "not started") {
					errs = append(errs, err)
				}
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

func (s *Server) set(name, typ string, values []string) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return errors.New("dnsserver: a record needs a name")
	}
	fq := dns.CanonicalName(name)
	if typ == "" {
		return s.setByForm(fq, values)
	}
	t, ok := dns.StringToType[strings.ToUpper(typ)]
	if !ok || !supported(t) {
		return fmt.Errorf("dnsserver: %s: record type %q is not one of %s", name, typ, strings.Join(Types, ", "))
	}
	clean := make([]string, 0, len(values))
	for _, v := range values {
		cv, err := canonical(t, v)
		if err != nil {
			return fmt.Errorf("dnsserver: %s %s: %w", name, typ, err)
		}
		clean = append(clean, cv)
	}
	if t == dns.TypeCNAME && len(clean) > 1 {
		return fmt.Errorf("dnsserver: %s: a name has at most one CNAME", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(clean) == 0 {
		delete(s.records, key{fq, t})
	} else {
		s.records[key{fq, t}] = clean
	}
	return nil
}

// setByForm stores IP addresses as A or AAAA records by their form.
func (s *Server) setByForm(fq string, values []string) error {
	var v4, v6 []string
	for _, v := range values {
		ip, err := netip.ParseAddr(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("dnsserver: %s: %q is not an IP address (name the type: %q)", fq, v, fq+" CNAME")
		}
		if ip.Is4() {
			v4 = append(v4, ip.String())
		} else {
			v6 = append(v6, ip.String())
		}
	}
	if err := s.set(fq, "A", v4); err != nil {
		return err
	}
	return s.set(fq, "AAAA", v6)
}

func supported(t uint16) bool {
	switch t {
	case dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeTXT:
		return true
	}
	return false
}

// canonical checks one value of type t and returns its stored form.
func canonical(t uint16, v string) (string, error) {
	switch t {
	case dns.TypeA, dns.TypeAAAA:
		ip, err := netip.ParseAddr(strings.TrimSpace(v))
		if err != nil || ip.Is4() != (t == dns.TypeA) {
			return "", fmt.Errorf("%q is not an IPv%d address", v, map[bool]int{true: 4, false: 6}[t == dns.TypeA])
		}
		return ip.String(), nil
	case dns.TypeCNAME:
		if _, ok := dns.IsDomainName(v); !ok || strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("%q is not a domain name", v)
		}
		return dns.CanonicalName(v), nil
	}
	return v, nil
}

// serve answers one query.
func (s *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) == 1 {
		s.answer(m, req.Question[0])
	} else {
		m.Rcode = dns.RcodeFormatError
	}
	_ = w.WriteMsg(m)
}

// answer fills m for question q, following CNAMEs it holds.
func (s *Server) answer(m *dns.Msg, q dns.Question) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries++
	name := dns.CanonicalName(q.Name)
	for hops := 0; hops < 8; hops++ {
		if cname, ok := s.records[key{name, dns.TypeCNAME}]; ok && q.Qtype != dns.TypeCNAME {
			m.Answer = append(m.Answer, &dns.CNAME{Hdr: s.header(name, dns.TypeCNAME), Target: cname[0]})
			name = cname[0]
			continue
		}
		for _, v := range s.records[key{name, q.Qtype}] {
			m.Answer = append(m.Answer, s.rr(name, q.Qtype, v))
		}
		if !s.knows(name) {
			m.Rcode = dns.RcodeNameError // also at the end of a dangling CNAME, as resolvers answer
		}
		return
	}
	m.Rcode = dns.RcodeServerFailure // a CNAME loop
}

// knows reports whether the server holds any record for name.
func (s *Server) knows(name string) bool {
	for k := range s.records {
		if k.name == name {
			return true
		}
	}
	return false
}

func (s *Server) header(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: s.ttl}
}

func (s *Server) rr(name string, t uint16, v string) dns.RR {
	h := s.header(name, t)
	switch t {
	case dns.TypeA:
		return &dns.A{Hdr: h, A: net.ParseIP(v)}
	case dns.TypeAAAA:
		return &dns.AAAA{Hdr: h, AAAA: net.ParseIP(v)}
	case dns.TypeCNAME:
		return &dns.CNAME{Hdr: h, Target: v}
	}
	return &dns.TXT{Hdr: h, Txt: splitTXT(v)}
}

// splitTXT cuts a TXT value into the 255-byte strings the wire format allows.
func splitTXT(v string) []string {
	var out []string
	for len(v) > 255 {
		out = append(out, v[:255])
		v = v[255:]
	}
	return append(out, v)
}
