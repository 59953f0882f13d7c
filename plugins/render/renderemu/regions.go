package renderemu

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/alpha-orion/runbook/plugins/internal/emukit"
)

// Regions are the regions a service can run in, as Render's API names them
// (render-oss/terraform-provider-render's region validator, read 2026-12-03).
var Regions = []string{"frankfurt", "ohio", "oregon", "singapore", "virginia"}

// CustomDomain is a custom domain of a service as the API returns it;
// its fields are the API's JSON fields named in their tags.
type CustomDomain struct {
	ID                 string             `json:"id"`
	Name               string             `json:"name"`
	DomainType         string             `json:"domainType"` // apex or subdomain
	PublicSuffix       string             `json:"publicSuffix"`
	RedirectForName    string             `json:"redirectForName"`
	VerificationStatus string             `json:"verificationStatus"` // verified or unverified
	CreatedAt          string             `json:"createdAt"`
	Server             CustomDomainServer `json:"server"`
}

// CustomDomainServer names the service a custom domain belongs to.
type CustomDomainServer struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// SetRegionDown starts (down) or ends an outage of a Render region: while it
// lasts, every API call that touches a service of the region answers 503 (its
// paths, a list that would show one, creating one there).
func (e *Emulator) SetRegionDown(region string, down bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down == nil {
		e.down = map[string]bool{}
	}
	e.down[region] = down
}

// regionDown reports whether region is in an outage; call with mu held.
func (e *Emulator) regionDown(region string) bool { return e.down[region] }

// writeRegionDown answers the 503 of a region in an outage.
func writeRegionDown(w http.ResponseWriter, region string) {
	writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("service unavailable: region %s is not responding", region))
}

// createService answers POST /services (ServicePOST: type, name, ownerId,
// repo, branch, serviceDetails{region, plan, runtime, numInstances, …}) with
// 201 {"service", "deployId"}: a new ID and a new onrender.com host.
func (e *Emulator) createService(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Type           string `json:"type"`
		Name           string `json:"name"`
		OwnerID        string `json:"ownerId"`
		Repo           string `json:"repo"`
		Branch         string `json:"branch"`
		ServiceDetails struct {
			Region       string `json:"region"`
			Plan         string `json:"plan"`
			Runtime      string `json:"runtime"`
			NumInstances int    `json:"numInstances"`
		} `json:"serviceDetails"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	sd := body.ServiceDetails
	if sd.Region == "" {
		sd.Region = "oregon" // the spec: "Defaults to oregon"
	}
	switch {
	case body.Name == "" || body.OwnerID == "" || body.Type == "":
		writeError(w, http.StatusBadRequest, "type, name and ownerId are required")
		return
	case body.Type != "web_service" && body.Type != "background_worker" && body.Type != "private_service":
		writeError(w, http.StatusBadRequest, fmt.Sprintf("type %q is not supported", body.Type))
		return
	case !slices.Contains(Regions, sd.Region):
		writeError(w, http.StatusBadRequest, fmt.Sprintf("region must be one of %s", strings.Join(Regions, ", ")))
		return
	case sd.NumInstances != 0 && (sd.NumInstances < MinInstances || sd.NumInstances > MaxInstances):
		writeError(w, http.StatusBadRequest, fmt.Sprintf("numInstances must be between %d and %d", MinInstances, MaxInstances))
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.regionDown(sd.Region) {
		writeRegionDown(w, sd.Region)
		return
	}
	if body.OwnerID != e.opts.OwnerID {
		writeError(w, http.StatusForbidden, fmt.Sprintf("owner %q is not this key's workspace", body.OwnerID))
		return
	}
	for _, s := range e.services {
		if s.Name == body.Name { // "Must be unique within the workspace"
			writeError(w, http.StatusConflict, fmt.Sprintf("a service named %q already exists", body.Name))
			return
		}
	}
	s := e.newService(serviceDefaults(ServiceSpec{Name: body.Name, Type: body.Type, Region: sd.Region,
		NumInstances: sd.NumInstances, Runtime: sd.Runtime, Plan: sd.Plan}))
	s.Slug = body.Name + "-" + newID("x")[2:6]
	if body.Repo != "" {
		s.Repo = body.Repo
	}
	if body.Branch != "" {
		s.Branch = body.Branch
	}
	if s.Type == "web_service" {
		// A new service's host is its name plus a random suffix, as Render
		// gives when the plain name is taken on onrender.com.
		s.ServiceDetails.URL = "https://" + s.Slug + ".onrender.com"
	}
	d := e.newDeploy(s, "api", "", "")
	e.services = append(e.services, s)
	emukit.WriteJSON(w, http.StatusCreated, map[string]any{"service": s.view(), "deployId": d.ID})
}

// deleteService answers DELETE /services/{serviceId} with 204.
func (e *Emulator) deleteService(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.findService(w, r)
	if !ok {
		return
	}
	e.services = slices.DeleteFunc(e.services, func(x *service) bool { return x == s })
	for _, g := range e.groups {
		g.ServiceLinks = slices.DeleteFunc(g.ServiceLinks, func(l EnvGroupLink) bool { return l.ID == s.ID })
	}
	w.WriteHeader(http.StatusNoContent)
}

// listCustomDomains answers GET /services/{serviceId}/custom-domains?name=
// with [{"customDomain", "cursor"}].
func (e *Emulator) listCustomDomains(w http.ResponseWriter, r *http.Request) {
	pg, ok := readPage(w, r)
	if !ok {
		return
	}
	names := queryList(r, "name")
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.findService(w, r)
	if !ok {
		return
	}
	byID := map[string]CustomDomain{}
	var ids []string
	for _, d := range s.domains {
		if matches(names, d.Name) {
			byID[d.ID] = d
			ids = append(ids, d.ID)
		}
	}
	writePage(w, pg, ids, func(id string) any { return map[string]any{"customDomain": byID[id], "cursor": cursorOf(id)} })
}

// createCustomDomain answers POST /services/{serviceId}/custom-domains
// {"name"} with 201 and the domains added (a list, as the spec has it).
func (e *Emulator) createCustomDomain(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name string `json:"name"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	name := strings.ToLower(strings.TrimSuffix(body.Name, "."))
	if strings.Count(name, ".") < 1 || strings.ContainsAny(name, " /:") {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%q is not a domain name", body.Name))
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.findService(w, r)
	if !ok {
		return
	}
	if s.Type != "web_service" {
		writeError(w, http.StatusBadRequest, "only web services and static sites support custom domains")
		return
	}
	for _, d := range s.domains {
		if d.Name == name {
			writeError(w, http.StatusConflict, fmt.Sprintf("custom domain %q already exists on this service", name))
			return
		}
	}
	d := CustomDomain{ID: newID("cdm"), Name: name, DomainType: "subdomain", PublicSuffix: publicSuffix(name),
		VerificationStatus: "unverified", CreatedAt: e.now().Format("2006-01-02T15:04:05Z07:00"),
		Server: CustomDomainServer{ID: s.ID, Name: s.Name}}
	if strings.Count(name, ".") == 1 {
		d.DomainType = "apex"
	}
	s.domains = append(s.domains, d)
	emukit.WriteJSON(w, http.StatusCreated, []CustomDomain{d})
}

// deleteCustomDomain answers DELETE
// /services/{serviceId}/custom-domains/{customDomainIdOrName} with 204.
func (e *Emulator) deleteCustomDomain(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.findService(w, r)
	if !ok {
		return
	}
	ref := r.PathValue("customDomainIdOrName")
	n := len(s.domains)
	s.domains = slices.DeleteFunc(s.domains, func(d CustomDomain) bool { return d.ID == ref || d.Name == ref })
	if len(s.domains) == n {
		writeError(w, http.StatusNotFound, fmt.Sprintf("custom domain %q not found", ref))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// publicSuffix is the registrable domain of name (its last two labels).
func publicSuffix(name string) string {
	parts := strings.Split(name, ".")
	if len(parts) <= 2 {
		return name
	}
	return strings.Join(parts[len(parts)-2:], ".")
}

// Route says which service Render's edge would serve a request for host
// (a custom domain) on: the service whose onrender.com host is target (what
// the custom domain's CNAME leads to) and that holds host as a custom
// domain. ok is false when no such service exists; down is true when its
// region is in an outage. It stands in for Render's routing layer.
func (e *Emulator) Route(host, target string) (s Service, down, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	target = strings.ToLower(strings.TrimSuffix(target, "."))
	for _, x := range e.services {
		if strings.TrimPrefix(x.ServiceDetails.URL, "https://") != target {
			continue
		}
		for _, d := range x.domains {
			if d.Name == host {
				return x.view(), e.regionDown(x.ServiceDetails.Region), true
			}
		}
	}
	return Service{}, false, false
}
