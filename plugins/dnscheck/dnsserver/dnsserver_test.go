package dnsserver

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func start(t *testing.T, records map[string][]string) *Server {
	t.Helper()
	s, err := Start("127.0.0.1:0", records)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// ask queries s over network and returns the rcode's name and the answers as text.
func ask(t *testing.T, s *Server, network, name string, qtype uint16) (string, []string) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	r, _, err := (&dns.Client{Net: network}).Exchange(m, s.Addr())
	if err != nil {
		t.Fatalf("%s query %s: %v", network, name, err)
	}
	var got []string
	for _, rr := range r.Answer {
		h := rr.Header()
		got = append(got, strings.TrimPrefix(rr.String(), h.String()))
	}
	return dns.RcodeToString[r.Rcode], got
}

func TestAnswers(t *testing.T) {
	t.Parallel()
	s := start(t, map[string][]string{
		"api.example.com CNAME":      {"web.example.net"},
		"web.example.net":            {"192.0.2.1", "2001:db8::1"},
		"Example.com TXT":            {"v=spf1 -all"},
		"loop-a.example.com CNAME":   {"loop-b.example.com"},
		"loop-b.example.com CNAME":   {"loop-a.example.com"},
		"dangling.example.com CNAME": {"nowhere.example.com"},
	})
	tests := []struct {
		name  string
		qtype uint16
		rcode string
		want  []string
	}{
		{"web.example.net", dns.TypeA, "NOERROR", []string{"192.0.2.1"}},
		{"WEB.example.net.", dns.TypeAAAA, "NOERROR", []string{"2001:db8::1"}},
		{"api.example.com", dns.TypeA, "NOERROR", []string{"web.example.net.", "192.0.2.1"}},
		{"api.example.com", dns.TypeCNAME, "NOERROR", []string{"web.example.net."}},
		{"example.com", dns.TypeTXT, "NOERROR", []string{`"v=spf1 -all"`}},
		{"example.com", dns.TypeA, "NOERROR", nil}, // known name, no A: NODATA
		{"missing.example.com", dns.TypeA, "NXDOMAIN", nil},
		{"loop-a.example.com", dns.TypeA, "SERVFAIL", nil},
		{"dangling.example.com", dns.TypeA, "NXDOMAIN", []string{"nowhere.example.com."}},
	}
	for _, network := range []string{"udp", "tcp"} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/%s/%s", network, tt.name, dns.TypeToString[tt.qtype]), func(t *testing.T) {
				rcode, got := ask(t, s, network, tt.name, tt.qtype)
				if rcode != tt.rcode {
					t.Errorf("rcode = %s, want %s", rcode, tt.rcode)
				}
				if tt.rcode != "SERVFAIL" && !slices.Equal(got, tt.want) {
					t.Errorf("answer = %q, want %q", got, tt.want)
				}
			})
		}
	}
}

func TestSetReplacesAndRemoves(t *testing.T) {
	t.Parallel()
	s := start(t, nil)
	if _, got := ask(t, s, "udp", "api.example.com", dns.TypeA); got != nil {
		t.Fatalf("empty server answered %q", got)
	}
	if err := s.Set("api.example.com", "A", []string{"192.0.2.7"}); err != nil {
		t.Fatal(err)
	}
	s.SetTTL(5)
	m := new(dns.Msg)
	m.SetQuestion("api.example.com.", dns.TypeA)
	r, err := dns.Exchange(m, s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Answer) != 1 || r.Answer[0].Header().Ttl != 5 || !r.Authoritative {
		t.Fatalf("answer = %v, want one authoritative record with ttl 5", r.Answer)
	}
	if err := s.Set("api.example.com", "A", nil); err != nil {
		t.Fatal(err)
	}
	if rcode, _ := ask(t, s, "udp", "api.example.com", dns.TypeA); rcode != "NXDOMAIN" {
		t.Fatalf("after removing: rcode %s, want NXDOMAIN", rcode)
	}
	if s.Queries() != 3 {
		t.Fatalf("Queries() = %d, want 3", s.Queries())
	}
}

func TestLongTXT(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 600)
	s := start(t, map[string][]string{"x.example.com TXT": {long}})
	m := new(dns.Msg)
	m.SetQuestion("x.example.com.", dns.TypeTXT)
	r, _, err := (&dns.Client{Net: "tcp"}).Exchange(m, s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	txt := r.Answer[0].(*dns.TXT).Txt
	if len(txt) != 3 || strings.Join(txt, "") != long {
		t.Fatalf("TXT came back as %d strings", len(txt))
	}
}

func TestBadRecords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		records map[string][]string
		want    string
	}{
		{map[string][]string{"x.example.com MX": {"mail.example.com"}}, `record type "MX"`},
		{map[string][]string{"x.example.com A": {"2001:db8::1"}}, "not an IPv4 address"},
		{map[string][]string{"x.example.com AAAA": {"192.0.2.1"}}, "not an IPv6 address"},
		{map[string][]string{"x.example.com": {"web.example.net"}}, "not an IP address"},
		{map[string][]string{"x.example.com CNAME": {"a.example.com", "b.example.com"}}, "at most one CNAME"},
		{map[string][]string{"  ": {"192.0.2.1"}}, "needs a name"},
	}
	for _, tt := range tests {
		_, err := Start("127.0.0.1:0", tt.records)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Start(%v) = %v, want %q", tt.records, err, tt.want)
		}
	}
}

func TestCloseTwice(t *testing.T) {
	t.Parallel()
	s, err := Start("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Fatalf("Addr() = %q, want loopback", s.Addr())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
