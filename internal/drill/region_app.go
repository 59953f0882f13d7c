package drill

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"sync"
	"time"
)

// RegionEdge stands in for what a client of the API's public name reaches
// when Alpha-Orion runs in one Render region or another: it resolves the
// name through the drill's DNS, as a browser would, follows the CNAME to a
// Render service's hostname and answers as that service. A hostname serves
// only while a service runs there (the Terraform state says which), and
// every service of a region in outage answers 503. So its health endpoint
// turns green only when DNS, the infrastructure and the region all agree.
type RegionEdge struct {
	dns  *DNS
	host string
	url  string

	mu       sync.Mutex
	services map[string]string // hostname → region
	down     map[string]bool   // regions in outage
}

// edgeMu serialises starting the edge: World keeps it in its memory.
var edgeMu sync.Mutex

const edgeKey = "region-edge"

// RegionEdge starts (once) the public side of host, resolved through the
// drill's DNS.
func (w *World) RegionEdge(host string) (*RegionEdge, error) {
	d, err := w.DNS()
	if err != nil {
		return nil, err
	}
	edgeMu.Lock()
	defer edgeMu.Unlock()
	if e, ok := w.recall(edgeKey).(*RegionEdge); ok {
		return e, nil
	}
	l, err := net.Listen("tcp", loopback())
	if err != nil {
		return nil, fmt.Errorf("drill: start region edge: %w", err)
	}
	e := &RegionEdge{dns: d, host: host, url: "http://" + l.Addr().String(),
		services: map[string]string{}, down: map[string]bool{}}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	w.remember(edgeKey, e)
	w.onClose(srv.Close)
	return e, nil
}

// HealthURL is https://HOST/healthz as the drill serves it.
func (e *RegionEdge) HealthURL() string { return e.url + "/healthz" }

// SetServices replaces the services that run: hostname → region.
func (e *RegionEdge) SetServices(services map[string]string) {
	e.mu.Lock()
	e.services = maps.Clone(services)
	e.mu.Unlock()
}

// SetRegionDown starts or ends an outage of a region.
func (e *RegionEdge) SetRegionDown(region string, down bool) {
	e.mu.Lock()
	e.down[region] = down
	e.mu.Unlock()
}

// route says where a request for the public name lands now: the service's
// hostname, its region, and the status a client would get (200 when it serves).
func (e *RegionEdge) route(r *http.Request) (target, region string, status int, why string) {
	targets, err := e.dns.Lookup(r.Context(), e.host, "CNAME")
	if err != nil || len(targets) == 0 {
		return "", "", http.StatusBadGateway, fmt.Sprintf("%s does not resolve (%v)", e.host, err)
	}
	target = targets[0]
	e.mu.Lock()
	region, runs := e.services[target]
	down := e.down[region]
	e.mu.Unlock()
	switch {
	case !runs:
		return target, "", http.StatusNotFound, fmt.Sprintf("no service runs at %s", target)
	case down:
		return target, region, http.StatusServiceUnavailable, fmt.Sprintf("Render region %s is down", region)
	}
	return target, region, http.StatusOK, ""
}

func (e *RegionEdge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target, region, status, why := e.route(r)
	if status != http.StatusOK {
		http.Error(w, why, status)
		return
	}
	if r.URL.Path != "/healthz" {
		http.NotFound(w, r)
		return
	}
	fmt.Fprintf(w, "ok region=%s via %s\n", region, target)
}

// drillGet returns a GET's status and body (status 0 and the error when it fails).
func drillGet(ctx context.Context, url string) (int, string) {
	return drillGetBearer(ctx, url, "")
}

// drillGetBearer sends a GET with an optional bearer token.
func drillGetBearer(ctx context.Context, url, bearer string) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err.Error()
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(b)
}
