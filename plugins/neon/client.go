package neon

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/plugins/internal/httpapi"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// Branch is a Neon branch, the fields of the API's branch object the plugin uses.
type Branch struct {
	ID              string     `json:"id"`
	ProjectID       string     `json:"project_id"`
	ParentID        string     `json:"parent_id"`
	ParentLSN       string     `json:"parent_lsn"`
	ParentTimestamp *time.Time `json:"parent_timestamp"`
	Name            string     `json:"name"`
	CurrentState    string     `json:"current_state"`
	PendingState    string     `json:"pending_state"`
	Default         bool       `json:"default"`
	Protected       bool       `json:"protected"`
	RestoreStatus   string     `json:"restore_status"`
	RestoredFrom    string     `json:"restored_from"`
	RestoredAs      string     `json:"restored_as"`
	LastResetAt     *time.Time `json:"last_reset_at"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// Operation is a Neon operation, the fields of the API's operation object the plugin uses.
type Operation struct {
	ID        string    `json:"id"`
	ProjectID string    `json:"project_id"`
	BranchID  string    `json:"branch_id"`
	Action    string    `json:"action"`
	Status    string    `json:"status"`
	Error     string    `json:"error"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Operation statuses, as Neon names them.
const (
	opFinished  = "finished"
	opFailed    = "failed"
	opError     = "error"
	opCancelled = "cancelled"
	opSkipped   = "skipped"
)

// terminal reports whether an operation status is final.
func terminal(status string) bool {
	switch status {
	case opFinished, opFailed, opError, opCancelled, opSkipped:
		return true
	}
	return false
}

// failed reports whether a final status is a failure. Neon skips an
// operation that became unnecessary (e.g. starting a compute that runs), so
// skipped counts as done, not failed.
func failed(status string) bool {
	return status == opFailed || status == opError || status == opCancelled
}

// RestoreRequest is the body of POST …/branches/{branch_id}/restore.
type RestoreRequest struct {
	SourceBranchID    string `json:"source_branch_id"`
	SourceTimestamp   string `json:"source_timestamp,omitempty"`
	SourceLSN         string `json:"source_lsn,omitempty"`
	PreserveUnderName string `json:"preserve_under_name,omitempty"`
}

// ConnParams selects the connection URI GET …/connection_uri returns.
type ConnParams struct {
	BranchID     string
	DatabaseName string
	RoleName     string
	Pooled       bool
}

// errorMessage reads Neon's error body, {"code", "message", "request_id"},
// or returns "" for a body of another shape.
func errorMessage(raw []byte) string {
	var e struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Message == "" {
		return ""
	}
	text := e.Message
	if e.Code != "" {
		text = e.Code + ": " + text
	}
	if e.RequestID != "" {
		text += " (request_id " + e.RequestID + ")"
	}
	return text
}

// Client is a typed client of the Neon API v2, scoped to one project.
type Client struct {
	api       *httpapi.Client
	projectID string
	pageSize  int // branches per page; 0 leaves it to the API
}

// project returns the path of the client's project.
func (c *Client) project() string { return "/projects/" + url.PathEscape(c.projectID) }

// GetBranch returns a branch by ID.
func (c *Client) GetBranch(ctx context.Context, id string) (Branch, error) {
	var out struct {
		Branch Branch `json:"branch"`
	}
	err := c.api.Call(ctx, "get branch "+id, http.MethodGet, c.project()+"/branches/"+url.PathEscape(id), nil, nil, &out)
	return out.Branch, err
}

// maxPages bounds how many pages a listing follows, against a cursor that never ends.
const maxPages = 100

// ListBranches returns the project's branches whose name or ID contains
// search (all of them for ""), following the pagination cursor.
func (c *Client) ListBranches(ctx context.Context, search string) ([]Branch, error) {
	return c.listBranches(ctx, "list branches", search)
}

// listBranches is ListBranches with op naming the call in errors.
func (c *Client) listBranches(ctx context.Context, op, search string) ([]Branch, error) {
	var all []Branch
	cursor := ""
	for range maxPages {
		q := url.Values{"sort_by": {"name"}, "sort_order": {"asc"}}
		if search != "" {
			q.Set("search", search)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		if c.pageSize > 0 {
			q.Set("limit", strconv.Itoa(c.pageSize))
		}
		var out struct {
			Branches   []Branch `json:"branches"`
			Pagination struct {
				Next string `json:"next"`
			} `json:"pagination"`
		}
		if err := c.api.Call(ctx, op, http.MethodGet, c.project()+"/branches", q, nil, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Branches...)
		if out.Pagination.Next == "" || out.Pagination.Next == cursor || len(out.Branches) == 0 {
			return all, nil
		}
		cursor = out.Pagination.Next
	}
	return all, nil
}

// FindBranch returns the branch named ref, or with ID ref. It fails with
// KindNotFound when there is none.
func (c *Client) FindBranch(ctx context.Context, ref string) (Branch, error) {
	if strings.HasPrefix(ref, "br-") {
		b, err := c.GetBranch(ctx, ref)
		if sdk.KindOf(err) != sdk.KindNotFound {
			return b, err
		}
	}
	b, ok, err := c.BranchNamed(ctx, ref)
	switch {
	case err != nil:
		return Branch{}, err
	case !ok:
		return Branch{}, sdk.NotFound("neon: find branch %s: no branch with that name or ID in project %s", ref, c.projectID)
	}
	return b, nil
}

// BranchNamed returns the branch whose name or ID is exactly ref, if any.
func (c *Client) BranchNamed(ctx context.Context, ref string) (Branch, bool, error) {
	bs, err := c.listBranches(ctx, "find branch "+ref, ref)
	if err != nil {
		return Branch{}, false, err
	}
	for _, b := range bs {
		if b.Name == ref {
			return b, true, nil
		}
	}
	for _, b := range bs {
		if b.ID == ref {
			return b, true, nil
		}
	}
	return Branch{}, false, nil
}

// DefaultBranch returns the project's default branch.
func (c *Client) DefaultBranch(ctx context.Context) (Branch, error) {
	bs, err := c.listBranches(ctx, "find the default branch", "")
	if err != nil {
		return Branch{}, err
	}
	for _, b := range bs {
		if b.Default {
			return b, nil
		}
	}
	return Branch{}, sdk.NotFound("neon: find default branch: project %s has none", c.projectID)
}

// RestoreBranch asks Neon to restore branch id; it returns the branch and
// the operations the restore started. It is sent once: the caller decides
// whether a failed attempt may be repeated (see restorer.restore).
func (c *Client) RestoreBranch(ctx context.Context, id string, req RestoreRequest) (Branch, []Operation, bool, error) {
	var out struct {
		Branch     Branch      `json:"branch"`
		Operations []Operation `json:"operations"`
	}
	again, err := c.api.Once(ctx, "restore branch "+id, http.MethodPost, c.project()+"/branches/"+url.PathEscape(id)+"/restore", nil, req, &out)
	return out.Branch, out.Operations, again, err
}

// GetOperation returns an operation by ID.
func (c *Client) GetOperation(ctx context.Context, id string) (Operation, error) {
	var out struct {
		Operation Operation `json:"operation"`
	}
	err := c.api.Call(ctx, "get operation "+id, http.MethodGet, c.project()+"/operations/"+url.PathEscape(id), nil, nil, &out)
	return out.Operation, err
}

// opPages bounds how far back ListOperations looks: recent operations are
// what a wait needs.
const opPages = 5

// ListOperations returns the project's recent operations, newest first.
func (c *Client) ListOperations(ctx context.Context) ([]Operation, error) {
	var all []Operation
	cursor := ""
	for range opPages {
		q := url.Values{}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var out struct {
			Operations []Operation `json:"operations"`
			Pagination struct {
				Cursor string `json:"cursor"`
			} `json:"pagination"`
		}
		if err := c.api.Call(ctx, "list operations", http.MethodGet, c.project()+"/operations", q, nil, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Operations...)
		if out.Pagination.Cursor == "" || out.Pagination.Cursor == cursor || len(out.Operations) == 0 {
			break
		}
		cursor = out.Pagination.Cursor
	}
	return all, nil
}

// ConnectionURI returns the connection URI Neon gives for p. It holds the
// role's password.
func (c *Client) ConnectionURI(ctx context.Context, p ConnParams) (string, error) {
	q := url.Values{"database_name": {p.DatabaseName}, "role_name": {p.RoleName}, "pooled": {strconv.FormatBool(p.Pooled)}}
	if p.BranchID != "" {
		q.Set("branch_id", p.BranchID)
	}
	var out struct {
		URI string `json:"uri"`
	}
	op := "get connection URI"
	if p.BranchID != "" {
		op += " of branch " + p.BranchID
	}
	if err := c.api.Call(ctx, op, http.MethodGet, c.project()+"/connection_uri", q, nil, &out); err != nil {
		return "", err
	}
	if out.URI == "" {
		return "", sdk.Permanent(errors.New("neon: " + op + ": the answer has no uri"))
	}
	return out.URI, nil
}

// endpointOf returns what identifies the server behind a connection URI:
// host, port and database, without the credentials.
func endpointOf(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	return u.Host + u.Path
}

// hostOf returns the host (and port) of a connection URI, which is safe to show.
func hostOf(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	return u.Host
}
