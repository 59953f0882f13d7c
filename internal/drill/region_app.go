package drill

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/plugins/render/renderemu"
)

// RegionEdge stands in for what a client of the API's public name reaches:
// it resolves the name through the drill's DNS, as a browser would, follows
// the CNAME to an onrender.com host and asks Render's routing (the Render
// emulator's Route) which service answers there for that name: the service
// must run at that host and hold the name as a custom domain, and a service
// of a region in outage answers 503. So its health endpoint turns green only
// when DNS, the services and the custom domain agree, whatever the drill
// believes.
type RegionEdge struct {
	dns    *DNS
	render *renderemu.Emulator
	host   string
	url    string
}

// edgeMu serialises starting the edge: World keeps it in its memory.
var edgeMu sync.Mutex

const edgeKey = "region-edge"

// RegionEdge starts (once) the public side of host, resolved through the
// drill's DNS and routed by the Render emulator.
func (w *World) RegionEdge(host string) (*RegionEdge, error) {
	d, err := w.DNS()
	if err != nil {
		return nil, err
	}
	r, err := w.Render()
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
	e := &RegionEdge{dns: d, render: r, host: host, url: "http://" + l.Addr().String()}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	w.remember(edgeKey, e)
	w.onClose(srv.Close)
	return e, nil
}

// HealthURL is https://HOST/healthz as the drill serves it.
func (e *RegionEdge) HealthURL() string { return e.url + "/healthz" }

// route says where a request for the public name lands now: the service,
// and the status a client would get (200 when it serves).
func (e *RegionEdge) route(r *http.Request) (svc renderemu.Service, target string, status int, why string) {
	targets, err := e.dns.Lookup(r.Context(), e.host, "CNAME")
	if err != nil || len(targets) == 0 {
		return svc, "", http.StatusBadGateway, fmt.Sprintf("%s does not resolve (%v)", e.host, err)
	}
	target = targets[0]
	svc, down, ok := e.render.Route(e.host, target)
	switch {
	case !ok:
		return svc, target, http.StatusNotFound, fmt.Sprintf("no service at %s holds %s as a custom domain", target, e.host)
	case down:
		return svc, target, http.StatusServiceUnavailable, fmt.Sprintf("Render region %s is down", svc.ServiceDetails.Region)
	}
	return svc, target, http.StatusOK, ""
}

func (e *RegionEdge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	svc, target, status, why := e.route(r)
	if status != http.StatusOK {
		http.Error(w, why, status)
		return
	}
	if r.URL.Path != "/healthz" {
		http.NotFound(w, r)
		return
	}
	fmt.Fprintf(w, "ok service=%s region=%s via %s\n", svc.ID, svc.ServiceDetails.Region, target)
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
