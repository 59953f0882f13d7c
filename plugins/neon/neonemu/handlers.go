package neonemu

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/alpha-orion/runbook/plugins/internal/emukit"
)

// writeError writes Neon's error body: {"code", "message", "request_id"}.
func writeError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	emukit.WriteJSON(w, status, apiError{Code: "", Message: msg, RequestID: r.Header.Get("X-Request-ID")})
}

// findProject returns the project named in the path or writes a 404; call with mu held.
func (e *Emulator) findProject(w http.ResponseWriter, r *http.Request) (*project, bool) {
	id := r.PathValue("project_id")
	for _, p := range e.projects {
		if p.ID == id {
			return p, true
		}
	}
	writeError(w, r, http.StatusNotFound, fmt.Sprintf("project %q not found", id))
	return nil, false
}

// findBranch returns branch id of project p or writes a 404; call with mu held.
func (e *Emulator) findBranch(w http.ResponseWriter, r *http.Request, p *project, id string) (*branch, bool) {
	if b, ok := e.branches[id]; ok && b.ProjectID == p.ID {
		return b, true
	}
	writeError(w, r, http.StatusNotFound, fmt.Sprintf("branch %q not found", id))
	return nil, false
}

// listProjects answers GET /projects: {"projects": [...], "pagination": {"cursor"},
// "applications": {}, "integrations": {}}.
func (e *Emulator) listProjects(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := intParam(w, r, "limit", 10, 1, 400)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Project
	started := q.Get("cursor") == ""
	for _, p := range e.projects {
		if !started {
			started = p.ID == q.Get("cursor")
			continue
		}
		if s := q.Get("search"); s != "" && !containsFold(p.Name, s) && !containsFold(p.ID, s) {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, p.Project)
	}
	// Neon's spec requires the applications and integrations maps (keyed
	// by project ID; none here), and a pagination cursor, when there is
	// one, that is not empty.
	resp := map[string]any{"projects": nonNil(out), "applications": map[string][]string{}, "integrations": map[string][]string{}}
	if len(out) > 0 {
		resp["pagination"] = map[string]string{"cursor": out[len(out)-1].ID}
	}
	emukit.WriteJSON(w, http.StatusOK, resp)
}

// getProject answers GET /projects/{project_id}: {"project": {...}}.
func (e *Emulator) getProject(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.findProject(w, r); ok {
		emukit.WriteJSON(w, http.StatusOK, map[string]any{"project": p.Project})
	}
}

// listBranches answers GET /projects/{project_id}/branches with search,
// sort_by, sort_order, cursor and limit: {"branches", "annotations", "pagination"}.
func (e *Emulator) listBranches(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sortBy, sortOrder := q.Get("sort_by"), strings.ToLower(q.Get("sort_order"))
	if sortBy == "" {
		sortBy = "updated_at"
	}
	if sortOrder == "" {
		sortOrder = "desc"
	}
	if sortBy != "name" && sortBy != "created_at" && sortBy != "updated_at" {
		writeError(w, r, http.StatusBadRequest, "sort_by must be one of name, created_at, updated_at")
		return
	}
	if sortOrder != "asc" && sortOrder != "desc" {
		writeError(w, r, http.StatusBadRequest, "sort_order must be asc or desc")
		return
	}
	limit, ok := intParam(w, r, "limit", 10000, 1, 10000)
	if !ok {
		return
	}
	offset, ok := decodeCursor(q.Get("cursor"))
	if !ok {
		writeError(w, r, http.StatusBadRequest, "invalid cursor")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p, found := e.findProject(w, r)
	if !found {
		return
	}
	var all []Branch
	for _, b := range p.branches {
		if s := q.Get("search"); s == "" || containsFold(b.Name, s) || containsFold(b.ID, s) {
			all = append(all, b.Branch)
		}
	}
	sortBranches(all, sortBy, sortOrder == "desc")
	page := cursorPagination{SortBy: sortBy, SortOrder: sortOrder}
	offset = min(offset, len(all))
	end := min(offset+limit, len(all))
	if end < len(all) {
		page.Next = encodeCursor(end)
	}
	emukit.WriteJSON(w, http.StatusOK, map[string]any{
		"branches":    nonNil(all[offset:end]),
		"annotations": map[string]any{},
		"pagination":  page,
	})
}

// sortBranches orders branches by field, ties broken by ID for stable pages.
func sortBranches(bs []Branch, field string, desc bool) {
	less := func(a, b Branch) bool {
		switch field {
		case "name":
			if a.Name != b.Name {
				return a.Name < b.Name
			}
		case "created_at":
			if !a.CreatedAt.Equal(b.CreatedAt) {
				return a.CreatedAt.Before(b.CreatedAt)
			}
		default:
			if !a.UpdatedAt.Equal(b.UpdatedAt) {
				return a.UpdatedAt.Before(b.UpdatedAt)
			}
		}
		return a.ID < b.ID
	}
	sort.SliceStable(bs, func(i, j int) bool {
		if desc {
			return less(bs[j], bs[i])
		}
		return less(bs[i], bs[j])
	})
}

// encodeCursor and decodeCursor make the opaque pagination cursor.
func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

// decodeCursor reverses encodeCursor; "" is the first page.
func decodeCursor(c string) (int, bool) {
	if c == "" {
		return 0, true
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(raw), "offset:"))
	return n, err == nil && n >= 0 && strings.HasPrefix(string(raw), "offset:")
}

// getBranch answers GET /projects/{project_id}/branches/{branch_id}:
// {"branch": {...}, "annotation": {...}}; Neon's spec requires the annotation
// (BranchResponse with AnnotationResponse), empty when none was set.
func (e *Emulator) getBranch(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.findProject(w, r)
	if !ok {
		return
	}
	if b, ok := e.findBranch(w, r, p, r.PathValue("branch_id")); ok {
		emukit.WriteJSON(w, http.StatusOK, map[string]any{"branch": b.Branch, "annotation": annotation{
			Object: annotationObject{Type: "console/branch", ID: b.ID}, Value: map[string]string{},
		}})
	}
}

// listOperations answers GET /projects/{project_id}/operations, newest first,
// with limit (1 to 1000; all when absent) and cursor (the id of the last
// operation of the page before): {"operations", "pagination": {"cursor"}},
// the pagination left out after the last page, as its cursor may not be empty.
func (e *Emulator) listOperations(w http.ResponseWriter, r *http.Request) {
	limit, ok := intParam(w, r, "limit", 0, 1, 1000)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.findProject(w, r)
	if !ok {
		return
	}
	ops := e.projectOperations(p.ID)
	for i, j := 0, len(ops)-1; i < j; i, j = i+1, j-1 {
		ops[i], ops[j] = ops[j], ops[i]
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		i := slices.IndexFunc(ops, func(op Operation) bool { return op.ID == c })
		if i < 0 {
			writeError(w, r, http.StatusBadRequest, "invalid cursor")
			return
		}
		ops = ops[i+1:]
	}
	if limit > 0 && len(ops) > limit {
		ops = ops[:limit]
	}
	out := map[string]any{"operations": nonNil(ops)}
	if len(ops) > 0 {
		out["pagination"] = map[string]string{"cursor": ops[len(ops)-1].ID}
	}
	emukit.WriteJSON(w, http.StatusOK, out)
}

// getOperation answers GET /projects/{project_id}/operations/{operation_id},
// moving the operation on by one poll first.
func (e *Emulator) getOperation(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.findProject(w, r)
	if !ok {
		return
	}
	op, ok := e.ops[r.PathValue("operation_id")]
	if !ok || op.ProjectID != p.ID {
		writeError(w, r, http.StatusNotFound, fmt.Sprintf("operation %q not found", r.PathValue("operation_id")))
		return
	}
	e.advance(op)
	emukit.WriteJSON(w, http.StatusOK, map[string]any{"operation": op.Operation})
}

// connectionURI answers GET /projects/{project_id}/connection_uri: {"uri": "postgres://…"}.
func (e *Emulator) connectionURI(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for _, name := range []string{"database_name", "role_name"} {
		if q.Get(name) == "" {
			writeError(w, r, http.StatusBadRequest, "missing required query parameter "+name)
			return
		}
	}
	pooled := false
	if v := q.Get("pooled"); v != "" {
		var err error
		if pooled, err = strconv.ParseBool(v); err != nil {
			writeError(w, r, http.StatusBadRequest, "pooled must be true or false")
			return
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.findProject(w, r)
	if !ok {
		return
	}
	branchID := q.Get("branch_id")
	if branchID == "" {
		branchID = p.defaultBranch().ID
	}
	b, ok := e.findBranch(w, r, p, branchID)
	if !ok {
		return
	}
	if b.endpointID == "" { // a preserved branch: Neon moved its compute to the restored one
		writeError(w, r, http.StatusNotFound, fmt.Sprintf("branch %q has no compute endpoint", b.ID))
		return
	}
	if ep := q.Get("endpoint_id"); ep != "" && ep != b.endpointID {
		writeError(w, r, http.StatusNotFound, fmt.Sprintf("endpoint %q not found", ep))
		return
	}
	if q.Get("database_name") != p.dbName {
		writeError(w, r, http.StatusNotFound, fmt.Sprintf("database %q not found", q.Get("database_name")))
		return
	}
	if q.Get("role_name") != p.roleName {
		writeError(w, r, http.StatusNotFound, fmt.Sprintf("role %q not found", q.Get("role_name")))
		return
	}
	emukit.WriteJSON(w, http.StatusOK, map[string]string{"uri": e.uri(p, b, pooled)})
}

// uri builds a branch's connection URI: the local server when there is one,
// otherwise a Neon-style host that does not resolve. Pooled URIs are the same
// locally, as there is no pooler.
func (e *Emulator) uri(p *project, b *branch, pooled bool) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(p.roleName, p.password)}
	if e.pg != nil {
		u.Host = net.JoinHostPort(e.pg.Host(), strconv.Itoa(e.pg.Port()))
		u.Path = "/" + b.database
		u.RawQuery = "sslmode=disable"
		return u.String()
	}
	host := b.endpointID
	if pooled {
		host += "-pooler"
	}
	u.Host = host + "." + strings.TrimPrefix(p.RegionID, "aws-") + ".aws.neon.tech"
	u.Path = "/" + p.dbName
	u.RawQuery = "sslmode=require"
	return u.String()
}

// intParam parses an optional integer query parameter within [lo, hi], or writes a 400.
func intParam(w http.ResponseWriter, r *http.Request, name string, def, lo, hi int) (int, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		writeError(w, r, http.StatusBadRequest, fmt.Sprintf("%s must be an integer from %d to %d", name, lo, hi))
		return 0, false
	}
	return n, true
}

// containsFold reports whether s contains sub, ignoring case.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// nonNil turns a nil slice into an empty one, so it encodes as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
