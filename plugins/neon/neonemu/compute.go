package neonemu

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/plugins/internal/emukit"
)

// Endpoint is a branch's compute endpoint as the API returns it; its
// fields are the API's JSON fields named in their tags.
type Endpoint struct {
	Host                  string         `json:"host"`
	ID                    string         `json:"id"`
	ProjectID             string         `json:"project_id"`
	BranchID              string         `json:"branch_id"`
	RegionID              string         `json:"region_id"`
	AutoscalingLimitMinCU float64        `json:"autoscaling_limit_min_cu"`
	AutoscalingLimitMaxCU float64        `json:"autoscaling_limit_max_cu"`
	Type                  string         `json:"type"`
	CurrentState          string         `json:"current_state"`
	PoolerEnabled         bool           `json:"pooler_enabled"`
	PoolerMode            string         `json:"pooler_mode"`
	Disabled              bool           `json:"disabled"`
	PasswordlessAccess    bool           `json:"passwordless_access"`
	CreationSource        string         `json:"creation_source"`
	CreatedAt             time.Time      `json:"created_at"`
	UpdatedAt             time.Time      `json:"updated_at"`
	Settings              map[string]any `json:"settings"`
	ProxyHost             string         `json:"proxy_host"`
	SuspendTimeoutSeconds int64          `json:"suspend_timeout_seconds"`
	Provisioner           string         `json:"provisioner"`
}

// Database is a branch's database as the API returns it.
type Database struct {
	ID        int64     `json:"id"`
	BranchID  string    `json:"branch_id"`
	Name      string    `json:"name"`
	OwnerName string    `json:"owner_name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Role is a branch's role as the API returns it.
type Role struct {
	BranchID  string    `json:"branch_id"`
	Name      string    `json:"name"`
	Protected bool      `json:"protected"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// branchOf finds the project and branch named in the path or writes a 404; call with mu held.
func (e *Emulator) branchOf(w http.ResponseWriter, r *http.Request) (*project, *branch, bool) {
	p, ok := e.findProject(w, r)
	if !ok {
		return nil, nil, false
	}
	b, ok := e.findBranch(w, r, p, r.PathValue("branch_id"))
	return p, b, ok
}

// listEndpoints answers GET …/branches/{branch_id}/endpoints: the branch's
// one read-write endpoint. With a local server its host is the server's
// host:port (Neon's hosts take the default port), so clients that build a
// connection string from it reach the data.
func (e *Emulator) listEndpoints(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, b, ok := e.branchOf(w, r)
	if !ok {
		return
	}
	host := b.endpointID + "." + strings.TrimPrefix(p.RegionID, "aws-") + ".aws.neon.tech"
	if e.pg != nil {
		host = net.JoinHostPort(e.pg.Host(), strconv.Itoa(e.pg.Port()))
	}
	ep := Endpoint{
		Host: host, ID: b.endpointID, ProjectID: p.ID, BranchID: b.ID, RegionID: p.RegionID,
		AutoscalingLimitMinCU: 0.25, AutoscalingLimitMaxCU: 0.25, Type: "read_write", CurrentState: "idle",
		PoolerMode: "transaction", CreationSource: "console", CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt,
		Settings: map[string]any{}, ProxyHost: p.ProxyHost, Provisioner: p.Provisioner,
	}
	emukit.WriteJSON(w, http.StatusOK, map[string]any{"endpoints": []Endpoint{ep}})
}

// listDatabases answers GET …/branches/{branch_id}/databases: the project's one database.
func (e *Emulator) listDatabases(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, b, ok := e.branchOf(w, r)
	if !ok {
		return
	}
	db := Database{ID: 1, BranchID: b.ID, Name: p.dbName, OwnerName: p.roleName, CreatedAt: b.CreatedAt, UpdatedAt: b.CreatedAt}
	emukit.WriteJSON(w, http.StatusOK, map[string]any{"databases": []Database{db}})
}

// listRoles answers GET …/branches/{branch_id}/roles: the project's one role.
func (e *Emulator) listRoles(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, b, ok := e.branchOf(w, r)
	if !ok {
		return
	}
	role := Role{BranchID: b.ID, Name: p.roleName, CreatedAt: b.CreatedAt, UpdatedAt: b.CreatedAt}
	emukit.WriteJSON(w, http.StatusOK, map[string]any{"roles": []Role{role}})
}

// revealPassword answers GET …/branches/{branch_id}/roles/{role_name}/reveal_password:
// {"password"}, or 404 for another role.
func (e *Emulator) revealPassword(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, _, ok := e.branchOf(w, r)
	if !ok {
		return
	}
	if r.PathValue("role_name") != p.roleName {
		writeError(w, r, http.StatusNotFound, "role "+strconv.Quote(r.PathValue("role_name"))+" not found")
		return
	}
	emukit.WriteJSON(w, http.StatusOK, map[string]string{"password": p.password})
}
