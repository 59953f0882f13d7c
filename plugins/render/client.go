package render

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/plugins/internal/httpapi"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// Service is a Render service, the fields of the API's service object the plugin uses.
type Service struct {
	ID             string         `json:"id"`
	Name           string         `json:"name"`
	Type           string         `json:"type"`
	Suspended      string         `json:"suspended"` // suspended | not_suspended
	DashboardURL   string         `json:"dashboardUrl"`
	ServiceDetails ServiceDetails `json:"serviceDetails"`
	UpdatedAt      time.Time      `json:"updatedAt"`
}

// ServiceDetails is the type-specific part of a service.
type ServiceDetails struct {
	NumInstances int          `json:"numInstances"`
	Region       string       `json:"region"`
	URL          string       `json:"url"`
	Autoscaling  *Autoscaling `json:"autoscaling"`
}

// Autoscaling is the part of a service's autoscaling config the plugin
// reads: while it is enabled, Render ignores a manual instance count.
type Autoscaling struct {
	Enabled bool `json:"enabled"`
	Min     int  `json:"min"`
	Max     int  `json:"max"`
}

// IsSuspended reports whether Render says the service is suspended.
func (s Service) IsSuspended() bool { return s.Suspended == "suspended" }

// Deploy is a Render deploy, the fields of the API's deploy object the plugin uses.
type Deploy struct {
	ID         string     `json:"id"`
	Status     string     `json:"status"`
	Trigger    string     `json:"trigger"`
	Commit     *Commit    `json:"commit"`
	CreatedAt  time.Time  `json:"createdAt"`
	FinishedAt *time.Time `json:"finishedAt"`
}

// Commit is the commit a deploy builds.
type Commit struct {
	ID string `json:"id"`
}

// CommitID returns the deploy's commit ID, or "".
func (d Deploy) CommitID() string {
	if d.Commit == nil {
		return ""
	}
	return d.Commit.ID
}

// DeployLive is the status of a deploy that succeeded.
const DeployLive = "live"

// deployDone reports whether a deploy status is final.
func deployDone(status string) bool {
	switch status {
	case DeployLive, "deactivated", "build_failed", "update_failed", "pre_deploy_failed", "canceled":
		return true
	}
	return false
}

// DeployRequest is the body of POST /services/{serviceId}/deploys.
type DeployRequest struct {
	ClearCache string `json:"clearCache,omitempty"` // clear | do_not_clear
	CommitID   string `json:"commitId,omitempty"`
	ImageURL   string `json:"imageUrl,omitempty"`
}

// EnvVar is one environment variable.
type EnvVar struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// EnvGroup is a Render environment group; EnvVars is empty in listings.
type EnvGroup struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	EnvVars []EnvVar `json:"envVars"`
}

// Var returns the group's variable key and whether it is set.
func (g EnvGroup) Var(key string) (string, bool) {
	for _, v := range g.EnvVars {
		if v.Key == key {
			return v.Value, true
		}
	}
	return "", false
}

// errorMessage reads Render's error body, {"id", "message"}, or returns ""
// for a body of another shape.
func errorMessage(raw []byte) string {
	var e struct {
		ID      string `json:"id"`
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Message == "" {
		return ""
	}
	if e.ID != "" {
		return e.Message + " (error id " + e.ID + ")"
	}
	return e.Message
}

// Client is a typed client of the Render API v1.
type Client struct {
	api      *httpapi.Client
	pageSize int // items per page of a listing; 0 means 100
}

// maxPages bounds how many pages a listing follows, against a cursor that never ends.
const maxPages = 50

func (c *Client) limit() int {
	if c.pageSize > 0 {
		return c.pageSize
	}
	return 100
}

func svcPath(id string) string { return "/services/" + url.PathEscape(id) }

// GetService returns a service by ID.
func (c *Client) GetService(ctx context.Context, id string) (Service, error) {
	var s Service
	err := c.api.Call(ctx, "get service "+id, http.MethodGet, svcPath(id), nil, nil, &s)
	return s, err
}

// ListServices returns the services called name (all of them for "").
func (c *Client) ListServices(ctx context.Context, name string) ([]Service, error) {
	var all []Service
	cursor := ""
	op := "list services"
	if name != "" {
		op = "find service " + name
	}
	for range maxPages {
		q := url.Values{"limit": {strconv.Itoa(c.limit())}}
		if name != "" {
			q.Set("name", name)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page []struct {
			Cursor  string  `json:"cursor"`
			Service Service `json:"service"`
		}
		if err := c.api.Call(ctx, op, http.MethodGet, "/services", q, nil, &page); err != nil {
			return nil, err
		}
		for _, p := range page {
			all = append(all, p.Service)
		}
		if len(page) < c.limit() || page[len(page)-1].Cursor == "" || page[len(page)-1].Cursor == cursor {
			break
		}
		cursor = page[len(page)-1].Cursor
	}
	return all, nil
}

// idPrefixes are the prefixes of Render's service IDs.
var idPrefixes = []string{"srv-", "crn-"}

// FindService returns the service with ID ref, or called ref. It fails
// with KindNotFound when there is none, and KindBadInput when the name is
// ambiguous.
func (c *Client) FindService(ctx context.Context, ref string) (Service, error) {
	for _, p := range idPrefixes {
		if strings.HasPrefix(ref, p) {
			s, err := c.GetService(ctx, ref)
			if sdk.KindOf(err) != sdk.KindNotFound {
				return s, err
			}
		}
	}
	all, err := c.ListServices(ctx, ref)
	if err != nil {
		return Service{}, err
	}
	var named []Service
	for _, s := range all {
		if s.Name == ref {
			named = append(named, s)
		}
	}
	switch len(named) {
	case 0:
		return Service{}, sdk.NotFound("render: find service %s: no service with that name or ID", ref)
	case 1:
		return named[0], nil
	}
	ids := make([]string, len(named))
	for i, s := range named {
		ids[i] = s.ID
	}
	return Service{}, sdk.BadInput("render: find service %s: %d services have that name (%s): name it by ID", ref, len(named), strings.Join(ids, ", "))
}

// post sends a POST with an optional body and accepts any 2xx.
func (c *Client) post(ctx context.Context, op, path string, body any) error {
	return c.api.Call(ctx, op, http.MethodPost, path, nil, body, nil)
}

// Scale sets a service's instance count.
func (c *Client) Scale(ctx context.Context, id string, n int) error {
	return c.post(ctx, "scale service "+id, svcPath(id)+"/scale", map[string]int{"numInstances": n})
}

// Suspend suspends a service.
func (c *Client) Suspend(ctx context.Context, id string) error {
	return c.post(ctx, "suspend service "+id, svcPath(id)+"/suspend", nil)
}

// Resume resumes a suspended service.
func (c *Client) Resume(ctx context.Context, id string) error {
	return c.post(ctx, "resume service "+id, svcPath(id)+"/resume", nil)
}

// Restart restarts a service. A restart takes no idempotency key, so a
// POST whose answer was lost (a 5xx from a gateway, a dropped connection) is
// not sent again blindly: before each retry the service's event log is read,
// and a server_restarted event since the first attempt means the restart
// happened (any restart since then serves the purpose: processes started
// after the call).
func (c *Client) Restart(ctx context.Context, id string) error {
	op := "restart service " + id
	since := time.Now().Add(-restartClockSkew)
	tries := 0
	return c.api.Retry(ctx, func(ctx context.Context) (bool, error) {
		if tries++; tries > 1 {
			at, ok, err := c.RestartedSince(ctx, id, since)
			if err != nil {
				return true, err
			}
			if ok {
				if c.api.Log != nil {
					c.api.Log.Warnf("render: %s: the failed request did restart it (event at %s); not sending it again", op, at.UTC().Format(time.RFC3339))
				}
				return false, nil
			}
		}
		return c.api.Once(ctx, op, http.MethodPost, svcPath(id)+"/restart", nil, nil, nil)
	})
}

// restartClockSkew is how far Render's clock may lag ours when Restart
// looks for its own restart in the event log.
const restartClockSkew = 5 * time.Second

// RestartedSince reports the newest server_restarted event of a service at
// or after since, from its event log (the last hour by default).
func (c *Client) RestartedSince(ctx context.Context, id string, since time.Time) (time.Time, bool, error) {
	var events []struct {
		Event struct {
			Type      string    `json:"type"`
			Timestamp time.Time `json:"timestamp"`
		} `json:"event"`
	}
	q := url.Values{"type": {"server_restarted"}}
	if err := c.api.Call(ctx, "list events of service "+id, http.MethodGet, svcPath(id)+"/events", q, nil, &events); err != nil {
		return time.Time{}, false, err
	}
	for _, e := range events {
		if e.Event.Type == "server_restarted" && !e.Event.Timestamp.Before(since) {
			return e.Event.Timestamp, true, nil
		}
	}
	return time.Time{}, false, nil
}

// CreateDeploy triggers a deploy. Render answers 201 with the deploy or 202
// without a body; ok says whether the deploy came back.
//
// A deploy is not idempotent: a POST that failed with a 5xx or a dropped
// connection may have started one, and a blind retry would start a second
// build. So before each retry the service's deploys are listed, and a deploy
// not among known (the deploys listed before the first POST) is taken as
// this one (ok false: the caller finds it with known, as after a 202).
func (c *Client) CreateDeploy(ctx context.Context, id string, req DeployRequest, known []Deploy) (d Deploy, ok bool, err error) {
	seen := map[string]bool{}
	for _, k := range known {
		seen[k.ID] = true
	}
	op := "deploy service " + id
	tries := 0
	started := false
	err = c.api.Retry(ctx, func(ctx context.Context) (bool, error) {
		if tries++; tries > 1 {
			latest, err := c.ListDeploys(ctx, id, 20)
			if err != nil {
				return true, err
			}
			for _, l := range latest {
				if !seen[l.ID] {
					if c.api.Log != nil {
						c.api.Log.Warnf("render: %s: the failed request did start deploy %s; not sending it again", op, l.ID)
					}
					started = true
					return false, nil
				}
			}
		}
		return c.api.Once(ctx, op, http.MethodPost, svcPath(id)+"/deploys", nil, req, &d)
	})
	if started {
		return Deploy{}, false, nil
	}
	return d, err == nil && d.ID != "", err
}

// GetDeploy returns one deploy of a service.
func (c *Client) GetDeploy(ctx context.Context, serviceID, deployID string) (Deploy, error) {
	var d Deploy
	err := c.api.Call(ctx, "get deploy "+deployID+" of service "+serviceID, http.MethodGet,
		svcPath(serviceID)+"/deploys/"+url.PathEscape(deployID), nil, nil, &d)
	return d, err
}

// ListDeploys returns a service's latest deploys, newest first.
func (c *Client) ListDeploys(ctx context.Context, serviceID string, limit int) ([]Deploy, error) {
	var page []struct {
		Deploy Deploy `json:"deploy"`
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if err := c.api.Call(ctx, "list deploys of service "+serviceID, http.MethodGet, svcPath(serviceID)+"/deploys", q, nil, &page); err != nil {
		return nil, err
	}
	out := make([]Deploy, len(page))
	for i, p := range page {
		out[i] = p.Deploy
	}
	return out, nil
}

// GetEnvVar returns a service's variable key and whether it is set.
func (c *Client) GetEnvVar(ctx context.Context, serviceID, key string) (string, bool, error) {
	var v EnvVar
	err := c.api.Call(ctx, "get env var "+key+" of service "+serviceID, http.MethodGet,
		svcPath(serviceID)+"/env-vars/"+url.PathEscape(key), nil, nil, &v)
	if sdk.KindOf(err) == sdk.KindNotFound {
		return "", false, nil // the service was found first: the variable is what is missing
	}
	return v.Value, err == nil, err
}

// PutEnvVar sets a service's variable key to value.
func (c *Client) PutEnvVar(ctx context.Context, serviceID, key, value string) error {
	return c.api.Call(ctx, "set env var "+key+" of service "+serviceID, http.MethodPut,
		svcPath(serviceID)+"/env-vars/"+url.PathEscape(key), nil, map[string]string{"value": value}, nil)
}

// ListEnvGroups returns the environment groups called name (all for ""),
// without their variables.
func (c *Client) ListEnvGroups(ctx context.Context, name string) ([]EnvGroup, error) {
	q := url.Values{"limit": {strconv.Itoa(c.limit())}}
	op := "list env groups"
	if name != "" {
		q.Set("name", name)
		op = "find env group " + name
	}
	// Render answers a plain array here; each item may also come wrapped
	// as {"envGroup": {...}, "cursor"}, which is accepted too.
	var page []struct {
		EnvGroup
		Wrapped *EnvGroup `json:"envGroup"`
	}
	if err := c.api.Call(ctx, op, http.MethodGet, "/env-groups", q, nil, &page); err != nil {
		return nil, err
	}
	out := make([]EnvGroup, len(page))
	for i, p := range page {
		out[i] = p.EnvGroup
		if p.Wrapped != nil {
			out[i] = *p.Wrapped
		}
	}
	return out, nil
}

// GetEnvGroup returns an environment group with its variables.
func (c *Client) GetEnvGroup(ctx context.Context, id string) (EnvGroup, error) {
	var g EnvGroup
	err := c.api.Call(ctx, "get env group "+id, http.MethodGet, "/env-groups/"+url.PathEscape(id), nil, nil, &g)
	return g, err
}

// FindEnvGroup returns the environment group with ID ref, or called ref,
// with its variables.
func (c *Client) FindEnvGroup(ctx context.Context, ref string) (EnvGroup, error) {
	if strings.HasPrefix(ref, "evg-") {
		g, err := c.GetEnvGroup(ctx, ref)
		if sdk.KindOf(err) != sdk.KindNotFound {
			return g, err
		}
	}
	all, err := c.ListEnvGroups(ctx, ref)
	if err != nil {
		return EnvGroup{}, err
	}
	var named []EnvGroup
	for _, g := range all {
		if g.Name == ref {
			named = append(named, g)
		}
	}
	switch len(named) {
	case 0:
		return EnvGroup{}, sdk.NotFound("render: find env group %s: no environment group with that name or ID", ref)
	case 1:
		return c.GetEnvGroup(ctx, named[0].ID)
	}
	return EnvGroup{}, sdk.BadInput("render: find env group %s: %d groups have that name: name it by ID", ref, len(named))
}

// PutEnvGroupVar sets an environment group's variable key to value.
func (c *Client) PutEnvGroupVar(ctx context.Context, groupID, key, value string) error {
	return c.api.Call(ctx, "set env var "+key+" of env group "+groupID, http.MethodPut,
		"/env-groups/"+url.PathEscape(groupID)+"/env-vars/"+url.PathEscape(key), nil, map[string]string{"value": value}, nil)
}
