package neonemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/alpha-orion/runbook/plugins/internal/emukit"
)

// restorePlan is a validated restore, worked out under mu and carried out without it.
type restorePlan struct {
	target     *branch
	source     *branch
	point      *Snapshot  // history point to restore from; nil means the source's head
	at         *time.Time // requested source_timestamp
	lsn        string     // requested source_lsn
	preserve   string     // preserve_under_name
	preserveID string     // ID of the branch keeping the old state

	oldDB      string // target's database before the restore
	newDB      string // target's database after it
	preserveDB string // where the old data goes; "" means it is dropped
	afterLSN   string // WAL position right after the restore
}

// restoreBranch answers POST /projects/{project_id}/branches/{branch_id}/restore:
// 200 {"branch": {...}, "operations": [...]}.
func (e *Emulator) restoreBranch(w http.ResponseWriter, r *http.Request) {
	var req restoreRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, r, http.StatusBadRequest, "invalid request body: "+err.Error())
		return
	}
	e.mu.Lock()
	p, ok := e.findProject(w, r)
	if !ok {
		e.mu.Unlock()
		return
	}
	b, ok := e.findBranch(w, r, p, r.PathValue("branch_id"))
	if !ok {
		e.mu.Unlock()
		return
	}
	plan, status, msg := e.planRestore(p, b, req)
	if status == 0 && (e.locked(b) || plan.source.busy) {
		status, msg = http.StatusLocked, msgLocked
	}
	if status != 0 {
		e.mu.Unlock()
		writeError(w, r, status, msg)
		return
	}
	b.busy = true
	e.mu.Unlock()

	// The data work must finish even if the client goes away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Minute)
	defer cancel()
	err := e.moveData(ctx, plan)

	e.mu.Lock()
	defer e.mu.Unlock()
	b.busy = false
	if err != nil {
		writeError(w, r, http.StatusInternalServerError, "restore failed: "+err.Error())
		return
	}
	ops := e.applyRestore(p, plan)
	emukit.WriteJSON(w, http.StatusOK, map[string]any{"branch": b.Branch, "operations": ops})
}

// planRestore validates a restore request as Neon does and works out the
// databases involved; a non-zero status is the error to answer. Call with mu held.
func (e *Emulator) planRestore(p *project, b *branch, req restoreRequest) (*restorePlan, int, string) {
	bad := func(format string, args ...any) (*restorePlan, int, string) {
		return nil, http.StatusBadRequest, fmt.Sprintf(format, args...)
	}
	if req.SourceBranchID == "" {
		return bad("source_branch_id is required")
	}
	source, ok := e.branches[req.SourceBranchID]
	if !ok || source.ProjectID != p.ID {
		return bad("source branch %q not found in project %q", req.SourceBranchID, p.ID)
	}
	if req.SourceTimestamp != nil && req.SourceLSN != nil {
		return bad("only one of source_timestamp and source_lsn may be set")
	}
	self := source == b
	if self && req.SourceTimestamp == nil && req.SourceLSN == nil {
		return bad("source_timestamp or source_lsn is required when source_branch_id is the branch itself")
	}
	preserve := ""
	if req.PreserveUnderName != nil {
		preserve = *req.PreserveUnderName
	}
	if preserve == "" && (self || e.hasChildren(b)) {
		return bad("preserve_under_name is required when the branch has children or is restored from its own history")
	}
	if preserve != "" && p.branchNamed(preserve) != nil {
		return nil, http.StatusConflict, fmt.Sprintf("branch with name %q already exists", preserve)
	}
	plan := &restorePlan{target: b, source: source, preserve: preserve}
	switch {
	case req.SourceTimestamp != nil:
		at, err := time.Parse(time.RFC3339Nano, *req.SourceTimestamp)
		if err != nil {
			return bad("source_timestamp %q is not an RFC 3339 timestamp", *req.SourceTimestamp)
		}
		if status, msg := e.checkRetention(at); status != 0 {
			return nil, status, msg
		}
		plan.at = &at
		plan.point = newestAtOrBefore(source.history, func(s Snapshot) bool { return !s.Time.After(at) })
		if plan.point == nil {
			return bad("restore point %s is outside the retained history of branch %q (no history recorded at or before it)",
				at.Format(time.RFC3339Nano), source.ID)
		}
	case req.SourceLSN != nil:
		lsn, err := parseLSN(*req.SourceLSN)
		if err != nil {
			return bad("source_lsn %q is not a valid LSN (want X/Y in hex)", *req.SourceLSN)
		}
		plan.lsn = *req.SourceLSN
		plan.point = newestAtOrBefore(source.history, func(s Snapshot) bool { v, _ := parseLSN(s.LSN); return v <= lsn })
		if plan.point == nil {
			return bad("restore point %s is outside the retained history of branch %q (no history recorded at or before it)",
				plan.lsn, source.ID)
		}
	}
	e.nameDatabases(plan)
	return plan, 0, ""
}

// checkRetention rejects restore points in the future or past the retention window.
func (e *Emulator) checkRetention(at time.Time) (int, string) {
	now := e.now()
	if at.After(now) {
		return http.StatusBadRequest, fmt.Sprintf("source_timestamp %s is in the future", at.Format(time.RFC3339Nano))
	}
	if at.Before(now.Add(-e.opts.HistoryRetention)) {
		return http.StatusBadRequest, fmt.Sprintf("restore point %s is outside the retained history (history_retention_seconds=%d)",
			at.Format(time.RFC3339Nano), int64(e.opts.HistoryRetention.Seconds()))
	}
	return 0, ""
}

// nameDatabases decides which databases the restore creates, keeps and drops.
// Neon keeps the branch's connection string across a restore (see
// docs/providers.md): the target keeps its database name, and the old data
// is renamed away, to the preserved branch or to be dropped.
func (e *Emulator) nameDatabases(plan *restorePlan) {
	b := plan.target
	if plan.preserve != "" {
		plan.preserveID = wordID("br")
	}
	if e.pg == nil {
		return
	}
	plan.oldDB, plan.newDB = b.database, b.database
	if plan.preserve != "" {
		plan.preserveDB = e.dbName(plan.preserveID, 0)
	}
}

// moveData does the database work of a restore; it holds pgMu, not mu.
func (e *Emulator) moveData(ctx context.Context, plan *restorePlan) error {
	e.pgMu.Lock()
	defer e.pgMu.Unlock()
	if plan.point == nil { // restore to the source's head: record it first
		s, err := e.snapshot(ctx, plan.source)
		if err != nil {
			return err
		}
		e.mu.Lock()
		plan.source.history = append(plan.source.history, s)
		e.mu.Unlock()
		plan.point = &s
	}
	if e.pg == nil {
		plan.afterLSN = e.nextFakeLSN()
		return nil
	}
	if err := e.swapDatabases(ctx, plan); err != nil {
		return err
	}
	lsn, err := e.currentLSN(ctx)
	plan.afterLSN = lsn
	return err
}

// swapDatabases replaces the target's database with a copy of the restore
// point under the same name. Renaming the old one away ends every session
// connected to it, as the compute restart of a Neon restore does.
func (e *Emulator) swapDatabases(ctx context.Context, plan *restorePlan) error {
	template := plan.point.Database
	aside := plan.preserveDB
	if aside == "" {
		aside = e.dbName(plan.target.ID, -1) // dropped once the copy is in place
	}
	if err := e.pg.RenameDatabase(ctx, plan.oldDB, aside); err != nil {
		return err
	}
	if err := e.pg.CloneDatabase(ctx, plan.newDB, template); err != nil {
		return errors.Join(err, e.pg.RenameDatabase(ctx, aside, plan.oldDB))
	}
	if plan.preserveDB == "" {
		return e.pg.DropDatabase(ctx, aside)
	}
	e.own(aside)
	return nil
}

// applyRestore updates the branches after the data moved and returns the
// restore's operations; call with mu held. As Neon documents it (see
// docs/providers.md): the branch keeps its ID, name, compute endpoint and
// so its connection string; the preserved branch holds the old state and
// has no compute; restoring a root branch leaves both branches roots, while
// for any other branch the preserved one becomes its parent. The fields
// Neon documents for snapshot restores only (restore_status,
// restored_from, restored_as) stay empty, and parent_timestamp, which Neon
// says may stay empty after a restore, is left empty.
func (e *Emulator) applyRestore(p *project, plan *restorePlan) []Operation {
	b, now := plan.target, e.now()
	root := b.ParentID == ""
	var kept *branch
	if plan.preserve != "" {
		kept = e.preserveOldState(p, plan, now)
	}
	point := plan.point.LSN
	if plan.lsn != "" {
		point = plan.lsn
	}
	switch {
	case root:
		b.ParentID, b.ParentLSN = "", ""
	case kept != nil:
		b.ParentID, b.ParentLSN = kept.ID, point
	case plan.source != b:
		b.ParentID, b.ParentLSN = plan.source.ID, point
	}
	b.ParentTimestamp = nil
	b.LastResetAt = timePtr(now)
	b.CurrentState, b.PendingState, b.StateChangedAt, b.UpdatedAt = "resetting", "ready", now, now
	// From now on the branch's history shows the restored data.
	b.history = append(b.history, Snapshot{ID: "snap-" + wordID(""), BranchID: b.ID, Time: now,
		LSN: plan.afterLSN, Database: plan.point.Database})
	return []Operation{e.newOperation(b, "create_timeline").Operation, e.newOperation(b, "start_compute").Operation}
}

// preserveOldState creates the branch that keeps the target's old state and
// makes it the parent of the target's children; call with mu held. It has
// no compute endpoint: Neon moves the compute to the restored branch.
func (e *Emulator) preserveOldState(p *project, plan *restorePlan, now time.Time) *branch {
	b := plan.target
	kept := &branch{
		Branch: Branch{
			ID: plan.preserveID, ProjectID: p.ID, Name: plan.preserve,
			ParentID: b.ParentID, ParentLSN: b.ParentLSN, ParentTimestamp: b.ParentTimestamp,
			CurrentState: "ready", StateChangedAt: now, CreationSource: "console", InitSource: "parent-data",
			CreatedAt: now, UpdatedAt: now,
		},
		database: plan.preserveDB,
		history:  append([]Snapshot(nil), b.history...),
	}
	for _, child := range p.branches {
		if child.ParentID == b.ID {
			child.ParentID = kept.ID
		}
	}
	p.branches = append(p.branches, kept)
	e.branches[kept.ID] = kept
	return kept
}

// hasChildren reports whether any branch has b as parent; call with mu held.
func (e *Emulator) hasChildren(b *branch) bool {
	for _, other := range e.branches {
		if other.ParentID == b.ID {
			return true
		}
	}
	return false
}

// newestAtOrBefore returns the last history point for which ok holds (history is in time order).
func newestAtOrBefore(history []Snapshot, ok func(Snapshot) bool) *Snapshot {
	for i := len(history) - 1; i >= 0; i-- {
		if ok(history[i]) {
			s := history[i]
			return &s
		}
	}
	return nil
}

// timePtr returns a pointer to a copy of t.
func timePtr(t time.Time) *time.Time { return &t }
