package renderemu

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/plugins/internal/emukit"
)

// writeError writes Render's error body: {"id", "message"}.
func writeError(w http.ResponseWriter, status int, msg string) {
	emukit.WriteJSON(w, status, apiError{ID: randomHex(8), Message: msg})
}

// findService returns the service named in the path or writes a 404 (a
// 503 when its region is in an outage); call with mu held.
func (e *Emulator) findService(w http.ResponseWriter, r *http.Request) (*service, bool) {
	id := r.PathValue("serviceId")
	for _, s := range e.services {
		if s.ID == id {
			if e.regionDown(s.ServiceDetails.Region) {
				writeRegionDown(w, s.ServiceDetails.Region)
				return nil, false
			}
			return s, true
		}
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("service %q not found", id))
	return nil, false
}

// decodeBody decodes an optional JSON body into v; an empty body is fine.
func decodeBody(r *http.Request, v any) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil || len(strings.TrimSpace(string(raw))) == 0 {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("invalid JSON body: %w", err)
	}
	return nil
}

// page is the cursor/limit window of a list request.
type page struct {
	after string // cursor of the last item already seen
	limit int
}

// readPage parses cursor and limit (1–100, default 20), or writes a 400.
func readPage(w http.ResponseWriter, r *http.Request) (page, bool) {
	p := page{after: r.URL.Query().Get("cursor"), limit: 20}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusBadRequest, "limit must be an integer from 1 to 100")
			return page{}, false
		}
		p.limit = n
	}
	return p, true
}

// writePage answers the page of keys pg asks for, each as item(key), or
// a 400 for a cursor that names no key.
func writePage(w http.ResponseWriter, pg page, keys []string, item func(key string) any) {
	shown, err := pg.window(keys)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out := make([]any, 0, len(shown))
	for _, k := range shown {
		out = append(out, item(k))
	}
	emukit.WriteJSON(w, http.StatusOK, out)
}

// window returns the keys to show after p.after, at most p.limit of them, or
// an error for a cursor that names no item.
func (p page) window(keys []string) ([]string, error) {
	start := 0
	if p.after != "" {
		start = -1
		for i, k := range keys {
			if cursorOf(k) == p.after {
				start = i + 1
			}
		}
		if start < 0 {
			return nil, errors.New("invalid cursor")
		}
	}
	return keys[start:min(start+p.limit, len(keys))], nil
}

// cursorOf makes the opaque cursor of a list item.
func cursorOf(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// queryList returns the values of a repeatable query parameter, split on commas.
func queryList(r *http.Request, key string) []string {
	var out []string
	for _, v := range r.URL.Query()[key] {
		for _, part := range strings.Split(v, ",") {
			if part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// matches reports whether v is in list, or list is empty.
func matches(list []string, v string) bool {
	if len(list) == 0 {
		return true
	}
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// listServices answers GET /services?name=&type=&region=&suspended=&cursor=&limit=
// with [{"cursor", "service"}].
func (e *Emulator) listServices(w http.ResponseWriter, r *http.Request) {
	pg, ok := readPage(w, r)
	if !ok {
		return
	}
	names, types, regions, susp := queryList(r, "name"), queryList(r, "type"), queryList(r, "region"), queryList(r, "suspended")
	e.mu.Lock()
	defer e.mu.Unlock()
	byID := map[string]*service{}
	var ids []string
	for _, s := range e.services {
		if matches(names, s.Name) && matches(types, s.Type) && matches(regions, s.ServiceDetails.Region) && matches(susp, s.Suspended) {
			if e.regionDown(s.ServiceDetails.Region) {
				writeRegionDown(w, s.ServiceDetails.Region)
				return
			}
			byID[s.ID] = s
			ids = append(ids, s.ID)
		}
	}
	writePage(w, pg, ids, func(id string) any { return map[string]any{"cursor": cursorOf(id), "service": byID[id].view()} })
}

// getService answers GET /services/{serviceId} with the service.
func (e *Emulator) getService(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.findService(w, r); ok {
		emukit.WriteJSON(w, http.StatusOK, s.view())
	}
}

// scale answers POST /services/{serviceId}/scale {"numInstances": N} with 202.
func (e *Emulator) scale(w http.ResponseWriter, r *http.Request) {
	var body struct {
		NumInstances *int `json:"numInstances"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	// Render's manual scaling takes 1 to 100 instances (docs.render.com/scaling,
	// read 2026-12-03; see docs/providers.md): stopping a service is suspend.
	if body.NumInstances == nil || *body.NumInstances < MinInstances || *body.NumInstances > MaxInstances {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("numInstances is required and must be between %d and %d", MinInstances, MaxInstances))
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.findService(w, r)
	if !ok {
		return
	}
	s.scales = append(s.scales, *body.NumInstances)
	// "Render ignores this value as long as autoscaling is enabled for the
	// service" (ScaleService in Render's OpenAPI document): accepted, not applied.
	if a := s.ServiceDetails.Autoscaling; a == nil || !a.Enabled {
		s.ServiceDetails.NumInstances = *body.NumInstances
	}
	s.UpdatedAt = e.now()
	w.WriteHeader(http.StatusAccepted)
}

// suspend answers POST /services/{serviceId}/suspend with 202.
func (e *Emulator) suspend(w http.ResponseWriter, r *http.Request) {
	e.setSuspended(w, r, Suspended, []string{"user"})
}

// resume answers POST /services/{serviceId}/resume with 202.
func (e *Emulator) resume(w http.ResponseWriter, r *http.Request) {
	e.setSuspended(w, r, NotSuspended, []string{})
}

// setSuspended changes a service's suspension and answers 202.
func (e *Emulator) setSuspended(w http.ResponseWriter, r *http.Request, state string, suspenders []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.findService(w, r)
	if !ok {
		return
	}
	if s.Suspended == Suspended && state == NotSuspended {
		s.resumes++ // a resumed service starts new processes
	}
	s.Suspended, s.Suspenders, s.UpdatedAt = state, suspenders, e.now()
	w.WriteHeader(http.StatusAccepted)
}

// restart answers POST /services/{serviceId}/restart with 202.
func (e *Emulator) restart(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.findService(w, r)
	if !ok {
		return
	}
	s.restarts++
	e.nextEvent++
	s.events = append(s.events, ServiceEvent{ID: fmt.Sprintf("evt-%020d", e.nextEvent), ServiceID: s.ID, Timestamp: e.now(),
		Type: EventServerRestarted, Details: map[string]any{"triggeredByUser": e.opts.OwnerID}})
	w.WriteHeader(http.StatusAccepted)
}

// listEvents answers GET /services/{serviceId}/events with
// [{"event": ...}], newest first, filtered by type (repeatable) and by
// startTime/endTime (RFC 3339; default the last hour, as Render's).
func (e *Emulator) listEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	end, start := e.now(), e.now().Add(-time.Hour)
	for _, p := range []struct {
		name string
		into *time.Time
	}{{"startTime", &start}, {"endTime", &end}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				writeError(w, http.StatusBadRequest, p.name+" must be a date-time")
				return
			}
			*p.into = t
		}
	}
	types := map[string]bool{}
	for _, t := range q["type"] {
		types[t] = true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.findService(w, r)
	if !ok {
		return
	}
	out := []map[string]any{}
	for i := len(s.events) - 1; i >= 0; i-- {
		ev := s.events[i]
		if (len(types) == 0 || types[ev.Type]) && !ev.Timestamp.Before(start) && !ev.Timestamp.After(end) {
			out = append(out, map[string]any{"event": ev})
		}
	}
	emukit.WriteJSON(w, http.StatusOK, out)
}

// createDeploy answers POST /services/{serviceId}/deploys with 201 and the
// deploy (or 202 and no body, see AnswerNextDeploysWithoutBody).
func (e *Emulator) createDeploy(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ClearCache string `json:"clearCache"`
		CommitID   string `json:"commitId"`
		ImageURL   string `json:"imageUrl"`
		DeployMode string `json:"deployMode"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if body.ClearCache != "" && body.ClearCache != "clear" && body.ClearCache != "do_not_clear" {
		writeError(w, http.StatusBadRequest, "clearCache must be clear or do_not_clear")
		return
	}
	if body.DeployMode != "" && body.DeployMode != "deploy_only" && body.DeployMode != "build_and_deploy" {
		writeError(w, http.StatusBadRequest, "deployMode must be deploy_only or build_and_deploy")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.findService(w, r)
	if !ok {
		return
	}
	d := e.newDeploy(s, "api", body.CommitID, body.ImageURL)
	if e.failDeploys > 0 {
		e.failDeploys--
		d.fail = true
	}
	if e.noBody > 0 {
		e.noBody--
		w.WriteHeader(http.StatusAccepted)
		return
	}
	emukit.WriteJSON(w, http.StatusCreated, d.Deploy)
}

// newDeploy records a new deploy of s in status created; call with mu held.
func (e *Emulator) newDeploy(s *service, trigger, commitID, imageURL string) *deploy {
	now := e.now()
	if commitID == "" {
		commitID = randomHex(20)
	}
	d := &deploy{service: s, Deploy: Deploy{
		ID: newID("dep"), Status: DeployCreated, Trigger: trigger, CreatedAt: now, UpdatedAt: now,
		Commit: &DeployCommit{ID: commitID, Message: "emulated commit", CreatedAt: now},
	}}
	if imageURL != "" {
		d.Image = &DeployImage{Ref: imageURL}
	}
	s.deploys = append(s.deploys, d)
	e.deploys[d.ID] = d
	return d
}

// advance counts one poll of d and moves it a status further every
// PollsPerStep polls: created → build_in_progress → update_in_progress → live
// (or build_failed); call with mu held.
func (e *Emulator) advance(d *deploy) {
	if DeployDone(d.Status) {
		return
	}
	if d.polls++; d.polls < e.opts.PollsPerStep {
		return
	}
	d.polls = 0
	now := e.now()
	switch d.Status {
	case DeployCreated, DeployQueued:
		d.Status, d.StartedAt = DeployBuildInProgress, &now
	case DeployBuildInProgress:
		d.Status = DeployUpdateInProgress
		if d.fail {
			d.Status = DeployBuildFailed
		}
	case DeployUpdateInProgress:
		d.Status = DeployLive
		for _, other := range d.service.deploys {
			if other != d && other.Status == DeployLive {
				other.Status, other.UpdatedAt = DeployDeactivated, now
			}
		}
	}
	d.UpdatedAt = now
	if DeployDone(d.Status) {
		d.FinishedAt = &now
	}
}

// listDeploys answers GET /services/{serviceId}/deploys with [{"deploy", "cursor"}], newest first.
func (e *Emulator) listDeploys(w http.ResponseWriter, r *http.Request) {
	pg, ok := readPage(w, r)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.findService(w, r)
	if !ok {
		return
	}
	var ids []string
	for i := len(s.deploys) - 1; i >= 0; i-- {
		ids = append(ids, s.deploys[i].ID)
	}
	writePage(w, pg, ids, func(id string) any { return map[string]any{"cursor": cursorOf(id), "deploy": e.deploys[id].Deploy} })
}

// getDeploy answers GET /services/{serviceId}/deploys/{deployId}, moving the
// deploy on by one poll first.
func (e *Emulator) getDeploy(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.findService(w, r)
	if !ok {
		return
	}
	d, ok := e.deploys[r.PathValue("deployId")]
	if !ok || d.service != s {
		writeError(w, http.StatusNotFound, fmt.Sprintf("deploy %q not found", r.PathValue("deployId")))
		return
	}
	e.advance(d)
	emukit.WriteJSON(w, http.StatusOK, d.Deploy)
}

// listEnvVars answers GET /services/{serviceId}/env-vars with [{"envVar", "cursor"}].
func (e *Emulator) listEnvVars(w http.ResponseWriter, r *http.Request) {
	pg, ok := readPage(w, r)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.findService(w, r)
	if !ok {
		return
	}
	writePage(w, pg, sortedKeys(s.env), func(k string) any {
		return map[string]any{"envVar": EnvVar{Key: k, Value: s.env[k]}, "cursor": cursorOf(k)}
	})
}

// getEnvVar answers GET /services/{serviceId}/env-vars/{envVarKey} with {key, value}.
func (e *Emulator) getEnvVar(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.findService(w, r)
	if !ok {
		return
	}
	key := r.PathValue("envVarKey")
	v, ok := s.env[key]
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("environment variable %q not found", key))
		return
	}
	emukit.WriteJSON(w, http.StatusOK, EnvVar{Key: key, Value: v})
}

// putEnvVar answers PUT /services/{serviceId}/env-vars/{envVarKey}
// {"value"} or {"generateValue": true} with 200 {key, value}.
func (e *Emulator) putEnvVar(w http.ResponseWriter, r *http.Request) {
	value, ok := readValue(w, r)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.findService(w, r)
	if !ok {
		return
	}
	key := r.PathValue("envVarKey")
	s.env[key] = value
	s.UpdatedAt = e.now()
	emukit.WriteJSON(w, http.StatusOK, EnvVar{Key: key, Value: value})
}

// readValue reads {"value": "…"} or {"generateValue": true}, or writes a 400.
func readValue(w http.ResponseWriter, r *http.Request) (string, bool) {
	var body struct {
		Value         *string `json:"value"`
		GenerateValue bool    `json:"generateValue"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return "", false
	}
	switch {
	case body.Value != nil && body.GenerateValue:
		writeError(w, http.StatusBadRequest, "set either value or generateValue, not both")
		return "", false
	case body.Value != nil:
		return *body.Value, true
	case body.GenerateValue:
		return base64.RawURLEncoding.EncodeToString([]byte(randomHex(16))), true
	}
	writeError(w, http.StatusBadRequest, "value or generateValue is required")
	return "", false
}

// listEnvGroups answers GET /env-groups?name=&cursor=&limit= with a plain array.
func (e *Emulator) listEnvGroups(w http.ResponseWriter, r *http.Request) {
	pg, ok := readPage(w, r)
	if !ok {
		return
	}
	names := queryList(r, "name")
	e.mu.Lock()
	defer e.mu.Unlock()
	byID := map[string]*envGroup{}
	var ids []string
	for _, g := range e.groups {
		if matches(names, g.Name) {
			byID[g.ID] = g
			ids = append(ids, g.ID)
		}
	}
	writePage(w, pg, ids, func(id string) any { return byID[id].EnvGroupMeta })
}

// findGroup returns the env group named in the path or writes a 404; call with mu held.
func (e *Emulator) findGroup(w http.ResponseWriter, r *http.Request) (*envGroup, bool) {
	id := r.PathValue("envGroupId")
	for _, g := range e.groups {
		if g.ID == id {
			return g, true
		}
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("environment group %q not found", id))
	return nil, false
}

// getEnvGroup answers GET /env-groups/{envGroupId} with the group and its variables.
func (e *Emulator) getEnvGroup(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if g, ok := e.findGroup(w, r); ok {
		emukit.WriteJSON(w, http.StatusOK, g.view())
	}
}

// putEnvGroupVar answers PUT /env-groups/{envGroupId}/env-vars/{envVarKey}
// {"value"} with 200 and the updated group, as Render's spec has it.
func (e *Emulator) putEnvGroupVar(w http.ResponseWriter, r *http.Request) {
	value, ok := readValue(w, r)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	g, ok := e.findGroup(w, r)
	if !ok {
		return
	}
	g.env[r.PathValue("envVarKey")] = value
	g.UpdatedAt = e.now()
	emukit.WriteJSON(w, http.StatusOK, g.view())
}

// view returns the service as the API shows it.
func (s *service) view() Service {
	v := s.Service
	v.Suspenders = append([]string{}, s.Suspenders...)
	return v
}

// view returns the group with its variables, sorted by key.
func (g *envGroup) view() EnvGroup {
	out := EnvGroup{
		ID: g.ID, Name: g.Name, OwnerID: g.OwnerID, EnvironmentID: g.EnvironmentID,
		CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt,
		ServiceLinks: append([]EnvGroupLink{}, g.ServiceLinks...), EnvVars: []EnvVar{}, SecretFiles: []any{},
	}
	for _, k := range sortedKeys(g.env) {
		out.EnvVars = append(out.EnvVars, EnvVar{Key: k, Value: g.env[k]})
	}
	return out
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
