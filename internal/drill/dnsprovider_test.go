package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestDNSProvider drives the DNS provider's API as the fixture does: a
// record changes only through it, and DNS answers the change afterwards.
func TestDNSProvider(t *testing.T) {
	t.Parallel()
	w, err := NewWorld()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	p, err := w.DNSProvider("zone1", "tok", 0)
	if err != nil {
		t.Fatal(err)
	}
	records := p.URL() + "/zones/zone1/dns_records"
	steps := []struct {
		name, method, url, token string
		body                     any
		status                   int
		success                  bool
	}{
		{"no token", "GET", records, "", nil, http.StatusForbidden, false},
		{"wrong token", "GET", records, "nope", nil, http.StatusForbidden, false},
		{"another zone", "GET", p.URL() + "/zones/zone2/dns_records", "tok", nil, http.StatusNotFound, false},
		{"create", "POST", records, "tok", map[string]any{"type": "cname", "name": "API.example.com.", "content": "a.onrender.com", "ttl": 60}, http.StatusOK, true},
		{"create it again", "POST", records, "tok", map[string]any{"type": "CNAME", "name": "api.example.com", "content": "b.onrender.com"}, http.StatusBadRequest, false},
		{"create without content", "POST", records, "tok", map[string]any{"type": "CNAME", "name": "x.example.com"}, http.StatusBadRequest, false},
		{"edit an unknown record", "PATCH", records + "/99", "tok", map[string]any{"content": "c"}, http.StatusNotFound, false},
		{"edit", "PATCH", records + "/1", "tok", map[string]any{"content": "b.onrender.com."}, http.StatusOK, true},
	}
	for _, s := range steps {
		status, body := providerCall(t, s.method, s.url, s.token, s.body)
		if status != s.status || body["success"] != s.success {
			t.Fatalf("%s: %d %v, want %d success=%v", s.name, status, body, s.status, s.success)
		}
	}
	status, body := providerCall(t, "GET", records+"?type=CNAME&name=api.example.com", "tok", nil)
	list, _ := body["result"].([]any)
	if status != http.StatusOK || len(list) != 1 || list[0].(map[string]any)["content"] != "b.onrender.com" || list[0].(map[string]any)["id"] != "1" {
		t.Fatalf("list: %d %v", status, body)
	}
	dns, _ := w.DNS()
	if err := waitForCNAME(context.Background(), dns, "api.example.com", "b.onrender.com", 10*time.Second); err != nil {
		t.Fatal(err)
	}
}

func providerCall(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&buf).Encode(body)
	}
	req, _ := http.NewRequest(method, url, &buf)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp.StatusCode, out
}
