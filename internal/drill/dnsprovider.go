package drill

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DNSProvider stands in for the API of the DNS provider that hosts the
// zone (the DR plan does not name it; the drill speaks the shape of
// Cloudflare's DNS records API, see docs/providers.md): list, create and
// edit the records of one zone, with a bearer token. A change is published
// to the drill's DNS server after the propagation delay, as a provider's is,
// so the only way a record changes is a call to this API.
type DNSProvider struct {
	dns   *DNS
	zone  string
	token string
	delay time.Duration
	url   string

	mu      sync.Mutex // guards records and next
	records map[string]*dnsRecord
	next    int
}

// dnsRecord is a record as the API shows it.
type dnsRecord struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Name    string `json:"name"`
	Content string `json:"content"`
	TTL     int    `json:"ttl"`
	Proxied bool   `json:"proxied"`
}

// dnsProviderKey is the world's memory slot of the provider.
const dnsProviderKey = "dns-provider"

// DNSProvider starts (once) the provider's API for zone on loopback; token is
// the bearer token it accepts and delay how long a change takes to show.
func (w *World) DNSProvider(zone, token string, delay time.Duration) (*DNSProvider, error) {
	d, err := w.DNS()
	if err != nil {
		return nil, err
	}
	dnsMu.Lock()
	defer dnsMu.Unlock()
	if p, ok := w.recall(dnsProviderKey).(*DNSProvider); ok {
		return p, nil
	}
	l, err := net.Listen("tcp", loopback())
	if err != nil {
		return nil, fmt.Errorf("drill: start DNS provider API: %w", err)
	}
	p := &DNSProvider{dns: d, zone: zone, token: token, delay: delay,
		url: "http://" + l.Addr().String() + "/client/v4", records: map[string]*dnsRecord{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /client/v4/zones/{zone}/dns_records", p.list)
	mux.HandleFunc("POST /client/v4/zones/{zone}/dns_records", p.create)
	mux.HandleFunc("PATCH /client/v4/zones/{zone}/dns_records/{id}", p.edit)
	srv := &http.Server{Handler: p.auth(mux), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	w.remember(dnsProviderKey, p)
	w.onClose(srv.Close)
	return p, nil
}

// URL is the API's base, like https://api.cloudflare.com/client/v4.
func (p *DNSProvider) URL() string { return p.url }

// Zone is the zone's ID.
func (p *DNSProvider) Zone() string { return p.zone }

// envelope writes the provider's answer: {success, errors, messages, result}.
func envelope(w http.ResponseWriter, status int, result any, errs ...string) {
	type apiErr struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	body := map[string]any{"success": len(errs) == 0, "errors": []apiErr{}, "messages": []string{}, "result": result}
	for _, e := range errs {
		body["errors"] = append(body["errors"].([]apiErr), apiErr{Code: status, Message: e})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// auth refuses a request without the token.
func (p *DNSProvider) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+p.token {
			envelope(w, http.StatusForbidden, nil, "Authentication error")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// inZone refuses a request for another zone.
func (p *DNSProvider) inZone(w http.ResponseWriter, r *http.Request) bool {
	if r.PathValue("zone") != p.zone {
		envelope(w, http.StatusNotFound, nil, "zone not found")
		return false
	}
	return true
}

// list answers GET …/dns_records?type=&name= with the matching records.
func (p *DNSProvider) list(w http.ResponseWriter, r *http.Request) {
	if !p.inZone(w, r) {
		return
	}
	typ, name := strings.ToUpper(r.URL.Query().Get("type")), normalName(r.URL.Query().Get("name"))
	p.mu.Lock()
	defer p.mu.Unlock()
	out := []dnsRecord{}
	for i := 1; i <= p.next; i++ {
		rec, ok := p.records[fmt.Sprint(i)]
		if ok && (typ == "" || rec.Type == typ) && (name == "" || rec.Name == name) {
			out = append(out, *rec)
		}
	}
	envelope(w, http.StatusOK, out)
}

// create answers POST …/dns_records {type, name, content, ttl, proxied}.
func (p *DNSProvider) create(w http.ResponseWriter, r *http.Request) {
	if !p.inZone(w, r) {
		return
	}
	var rec dnsRecord
	if err := json.NewDecoder(r.Body).Decode(&rec); err != nil || rec.Type == "" || rec.Name == "" || rec.Content == "" {
		envelope(w, http.StatusBadRequest, nil, "type, name and content are required")
		return
	}
	rec.Type, rec.Name = strings.ToUpper(rec.Type), normalName(rec.Name)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, x := range p.records {
		if x.Type == rec.Type && x.Name == rec.Name {
			envelope(w, http.StatusBadRequest, nil, "An identical record already exists.")
			return
		}
	}
	p.next++
	rec.ID = fmt.Sprint(p.next)
	p.records[rec.ID] = &rec
	p.publish(rec)
	envelope(w, http.StatusOK, rec)
}

// edit answers PATCH …/dns_records/{id}: the fields given change.
func (p *DNSProvider) edit(w http.ResponseWriter, r *http.Request) {
	if !p.inZone(w, r) {
		return
	}
	var patch struct {
		Content *string `json:"content"`
		TTL     *int    `json:"ttl"`
		Proxied *bool   `json:"proxied"`
	}
	if err := json.NewDecoder(r.Body).Decode(&patch); err != nil {
		envelope(w, http.StatusBadRequest, nil, "invalid JSON body")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rec, ok := p.records[r.PathValue("id")]
	if !ok {
		envelope(w, http.StatusNotFound, nil, "Record not found")
		return
	}
	if patch.Content != nil {
		rec.Content = strings.TrimSuffix(*patch.Content, ".")
	}
	if patch.TTL != nil {
		rec.TTL = *patch.TTL
	}
	if patch.Proxied != nil {
		rec.Proxied = *patch.Proxied
	}
	p.publish(*rec)
	envelope(w, http.StatusOK, rec)
}

// publish makes the drill's DNS server answer rec after the delay; call with mu held.
func (p *DNSProvider) publish(rec dnsRecord) {
	p.dns.Publish(rec.Name, rec.Type, p.delay, rec.Content)
}

func normalName(s string) string { return strings.ToLower(strings.TrimSuffix(s, ".")) }
