package neon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/plugins/internal/httpapi"
	"github.com/alpha-orion/runbook/plugins/neon/neonspec"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// restoreReq is a restore_branch step's inputs, checked.
type restoreReq struct {
	branch   string     // the target, by name or ID
	source   string     // the branch to restore from; "" means the target
	at       *time.Time // the restore point, or
	lsn      string     // the restore point as an LSN; neither means the source's head
	preserve string     // preserve_under_name as given; "" means derived from the key
	derived  bool       // preserve is derived from the key: only this step creates that name
	key      string     // what the derived name is made from
	wait     bool
	timeout  time.Duration
}

// restoreParams checks a restore_branch step's inputs.
func restoreParams(req sdk.Request) (restoreReq, error) {
	in := inputs(req.Inputs)
	r := restoreReq{
		branch: in.str("branch"), source: in.str("source_branch"), lsn: in.str("lsn"), preserve: in.str("preserve_under_name"),
		wait: in.boolOr("wait", true), timeout: in.durationOr("timeout", neonspec.DefaultRestoreTimeout),
	}
	if t, ok := req.Inputs["timestamp"].(time.Time); ok {
		t = t.UTC()
		r.at = &t
	}
	switch {
	case r.branch == "":
		return r, sdk.BadInput("neon: restore_branch: input branch is empty")
	case r.at != nil && r.lsn != "":
		return r, sdk.BadInput("neon: restore_branch: give timestamp or lsn, not both")
	case r.at == nil && r.lsn == "" && (r.source == "" || r.source == r.branch):
		return r, sdk.BadInput("neon: restore_branch: give timestamp or lsn (restoring a branch from its own history needs a point in it)")
	}
	r.derived = r.preserve == ""
	r.key = req.IdempotencyKey
	if r.key == "" {
		r.key = req.RunID + "/" + req.StepID
	}
	return r, nil
}

// preserveFor returns preserve_under_name, derived for the target branch
// (by its name) when the step gives none.
func (r restoreReq) preserveFor(targetName string) string {
	if r.preserve != "" {
		return r.preserve
	}
	return preserveName(targetName, r.key)
}

// preserveName derives the name that keeps a branch's old state from the
// step's idempotency key, so every attempt of the step, and Reconcile after
// a crash, names (and finds) the same branch, and no other step creates it.
func preserveName(branch, key string) string {
	sum := sha256.Sum256([]byte(key))
	return branch + "_before_restore_" + hex.EncodeToString(sum[:4])
}

// pointText describes the restore point for people.
func (r restoreReq) pointText() string {
	switch {
	case r.at != nil:
		return r.at.Format(time.RFC3339Nano)
	case r.lsn != "":
		return "LSN " + r.lsn
	}
	return "the head"
}

// sourceText names the branch whose history is restored from.
func (r restoreReq) sourceText() string {
	if r.source == "" {
		return "its own history"
	}
	return "branch " + r.source
}

// restoreBranch runs restore_branch.
func (s *session) restoreBranch(ctx context.Context) (map[string]any, error) {
	r, err := restoreParams(s.req)
	if err != nil {
		return nil, err
	}
	target, err := s.client.FindBranch(ctx, r.branch)
	if err != nil {
		return nil, err
	}
	r.preserve = r.preserveFor(target.Name)
	source := target
	if r.source != "" && r.source != r.branch {
		if source, err = s.client.FindBranch(ctx, r.source); err != nil {
			return nil, err
		}
	}
	if r.at == nil && r.lsn == "" && source.ID == target.ID {
		return nil, sdk.BadInput("neon: restore_branch: give timestamp or lsn (restoring a branch from its own history needs a point in it)")
	}
	state, kept, err := s.restoreState(ctx, r, false)
	switch {
	case err != nil:
		return nil, err
	case state == sdk.Applied:
		s.log.Printf("branch %s was already restored by this step: its old state is branch %s (%s)", target.Name, kept.Name, kept.ID)
		return s.finishLostRestore(ctx, r, target.Name, kept)
	case state == sdk.Unknown:
		return nil, sdk.Conflict("neon: restore branch %s: a branch named %s already exists, so it cannot keep the state from before this restore: "+
			"if an earlier attempt of this step made it, the restore is done (see that branch); otherwise choose another preserve_under_name, "+
			"or leave it out to have one derived from the step, which later attempts recognise", target.ID, r.preserve)
	}
	before, err := s.client.ConnectionURI(ctx, s.conn(target.ID))
	if err != nil {
		return nil, err
	}
	body := RestoreRequest{SourceBranchID: source.ID, SourceLSN: r.lsn, PreserveUnderName: r.preserve}
	if r.at != nil {
		body.SourceTimestamp = r.at.Format(time.RFC3339Nano)
	}
	s.log.Printf("restoring branch %s (%s) to %s of %s; its current state is kept as branch %s",
		target.Name, target.ID, r.pointText(), r.sourceText(), r.preserve)
	restored, ops, lost, err := s.postRestore(ctx, target, r, body)
	switch {
	case err != nil:
		return nil, err
	case lost != nil:
		return s.finishLostRestore(ctx, r, target.Name, *lost)
	}
	id := restored.ID
	if id == "" {
		id = target.ID
	}
	return s.finishRestore(ctx, r, id, before, ops)
}

// postRestore sends the restore, retrying transient failures. Before each
// retry it checks whether the previous attempt took effect after all (the
// request arrived, the answer was lost): then it returns the branch that
// keeps the old state as lost, and the branch is never restored twice.
func (s *session) postRestore(ctx context.Context, target Branch, r restoreReq, body RestoreRequest) (Branch, []Operation, *Branch, error) {
	var restored Branch
	var ops []Operation
	var lost *Branch
	first := true
	err := s.client.api.Retry(ctx, func(ctx context.Context) (bool, error) {
		if !first {
			// The name was absent before the first attempt: if it exists
			// now, an earlier attempt created it.
			state, kept, err := s.restoreState(ctx, r, true)
			if err != nil {
				return sdk.KindOf(err) == sdk.KindRetryable, err
			}
			if state == sdk.Applied {
				s.log.Printf("the restore of branch %s took effect although its answer was lost: the old state is branch %s (%s)", target.Name, kept.Name, kept.ID)
				lost = &kept
				return false, nil
			}
		}
		first = false
		var again bool
		var err error
		restored, ops, again, err = s.client.RestoreBranch(ctx, target.ID, body)
		return again, err
	})
	return restored, ops, lost, err
}

// restoreState tells whether this step's restore already happened, from
// what Neon documents alone: a restore saves the branch's previous state
// to a branch named preserve_under_name (docs/providers.md). A derived name
// comes from the step's idempotency key, so a branch of that name proves
// the restore; a name the step gives may be older than the run, so it
// proves the restore only when the step saw it absent before sending
// (absentBefore), and is Unknown otherwise.
func (s *session) restoreState(ctx context.Context, r restoreReq, absentBefore bool) (sdk.State, Branch, error) {
	kept, ok, err := s.client.BranchNamed(ctx, r.preserve)
	switch {
	case err != nil || !ok:
		return sdk.NotApplied, Branch{}, err
	case kept.Name != r.preserve:
		return sdk.NotApplied, Branch{}, nil // an ID that happens to equal the name
	case r.derived || absentBefore:
		return sdk.Applied, kept, nil
	}
	return sdk.Unknown, kept, nil
}

// finishLostRestore finishes a restore whose answer was lost (or that an
// earlier attempt or run made): the branch is found again by its name,
// which a restore keeps, and the restore's operations among the project's.
// The connection URI from before is unknown.
func (s *session) finishLostRestore(ctx context.Context, r restoreReq, targetName string, kept Branch) (map[string]any, error) {
	target, err := s.client.FindBranch(ctx, targetName)
	if err != nil {
		return nil, err
	}
	ops, err := s.restoreOperations(ctx, target, kept.ID)
	if err != nil {
		return nil, err
	}
	return s.finishRestore(ctx, r, target.ID, "", ops)
}

// restoreOperations finds the operations of a restore whose answer was
// lost: the restored or preserved branch's operations that are unfinished,
// or that were created since the branch's last_reset_at (with a minute of
// slack for clocks) when Neon gives it; oldest first.
func (s *session) restoreOperations(ctx context.Context, target Branch, keptID string) ([]Operation, error) {
	all, err := s.client.ListOperations(ctx)
	if err != nil {
		return nil, err
	}
	var out []Operation
	for i := len(all) - 1; i >= 0; i-- {
		op := all[i]
		if op.BranchID != target.ID && op.BranchID != keptID {
			continue
		}
		since := target.LastResetAt != nil && !op.CreatedAt.Before(target.LastResetAt.Add(-time.Minute))
		if !terminal(op.Status) || since {
			out = append(out, op)
		}
	}
	return out, nil
}

// finishRestore waits for the restore's operations (when asked) and
// gathers the outputs. before is the connection URI from before the
// restore, "" when unknown: then new_endpoint is false, as Neon documents
// that a restore keeps the branch's connection string (docs/providers.md);
// when before is known the two are compared, and a change is reported
// loudly.
func (s *session) finishRestore(ctx context.Context, r restoreReq, targetID, before string, ops []Operation) (map[string]any, error) {
	if r.wait && len(ops) > 0 {
		var err error
		if ops, err = s.waitOps(ctx, opIDs(ops), r.timeout); err != nil {
			return nil, err
		}
	}
	target, err := s.client.GetBranch(ctx, targetID)
	if err != nil {
		return nil, err
	}
	kept, _, err := s.client.BranchNamed(ctx, r.preserve)
	if err != nil {
		return nil, err
	}
	restoredAt := target.UpdatedAt
	if target.LastResetAt != nil {
		restoredAt = *target.LastResetAt
	}
	after, err := s.client.ConnectionURI(ctx, s.conn(targetID))
	if err != nil {
		return nil, err
	}
	newEndpoint := before != "" && endpointOf(before) != endpointOf(after)
	if newEndpoint {
		s.log.Warnf("branch %s is now served by %s: clients need the new connection URI", target.Name, hostOf(after))
	}
	return map[string]any{
		"branch_id":           target.ID,
		"connection_uri":      after,
		"host":                hostOf(after),
		"new_endpoint":        newEndpoint,
		"restored_at":         restoredAt.UTC(),
		"restore_point":       r.restorePoint(target),
		"preserve_under_name": r.preserve,
		"preserved_branch_id": kept.ID,
		"operations":          opList(ops),
	}, nil
}

// restorePoint is the restore_point output: the timestamp or LSN the step
// asked for; for the head of another branch, the parent_lsn Neon gives
// once the restore's operations finished, else "head of branch NAME".
func (r restoreReq) restorePoint(restored Branch) string {
	switch {
	case r.at != nil:
		return r.at.Format(time.RFC3339Nano)
	case r.lsn != "":
		return r.lsn
	case restored.ParentLSN != "":
		return restored.ParentLSN
	}
	return "head of " + r.sourceText()
}

// predictRestore reads (GETs only) what a restore_branch step's outputs
// will be: Neon restores in place, so the branch keeps its ID and its
// connection URI (docs/providers.md). When the API cannot be read there
// are no outputs and the name is the step's branch reference. It also
// returns the branch's name, which the derived preserve_under_name uses.
func (p *Plugin) predictRestore(ctx context.Context, req sdk.Request, r restoreReq) (map[string]any, string) {
	s, err := p.session(req, nil)
	if err != nil {
		return nil, r.branch
	}
	target, err := s.client.FindBranch(ctx, r.branch)
	if err != nil {
		return nil, r.branch
	}
	uri, err := s.client.ConnectionURI(ctx, s.conn(target.ID))
	if err != nil {
		return nil, target.Name
	}
	return map[string]any{
		"branch_id":           target.ID,
		"connection_uri":      uri,
		"host":                hostOf(uri),
		"new_endpoint":        false,
		"restore_point":       r.restorePoint(Branch{}),
		"preserve_under_name": r.preserveFor(target.Name),
	}, target.Name
}

// reconcileRestore answers Reconcile for restore_branch: Applied (after
// waiting for the restore's operations, as the step would have) when the
// branch that keeps the old state exists under the name derived from this
// step's key; Unknown for a name the step gives that exists already.
func (s *session) reconcileRestore(ctx context.Context) (sdk.Reconciliation, error) {
	r, err := restoreParams(s.req)
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	target, err := s.client.FindBranch(ctx, r.branch)
	if sdk.KindOf(err) == sdk.KindNotFound {
		return sdk.Reconciliation{State: sdk.NotApplied}, nil
	}
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	r.preserve = r.preserveFor(target.Name)
	state, kept, err := s.restoreState(ctx, r, false)
	if err != nil || state != sdk.Applied {
		return sdk.Reconciliation{State: state}, err
	}
	out, err := s.finishLostRestore(ctx, r, target.Name, kept)
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	return sdk.Reconciliation{State: sdk.Applied, Outputs: out}, nil
}

// waitOps polls operations until each is final, for at most timeout. It
// fails when one failed, errored or was cancelled, naming it.
func (s *session) waitOps(ctx context.Context, ids []string, timeout time.Duration) ([]Operation, error) {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := map[string]Operation{}
	seen := map[string]string{}
	var last []Operation // the unfinished operations as last seen
	for {
		var pending []Operation
		for _, id := range ids {
			if _, ok := done[id]; ok {
				continue
			}
			op, err := s.client.GetOperation(wctx, id)
			if err != nil {
				return nil, s.waitError(ctx, err, timeout, last)
			}
			if seen[id] != op.Status {
				seen[id] = op.Status
				s.log.Printf("operation %s (%s) on branch %s: %s", op.ID, op.Action, op.BranchID, op.Status)
			}
			if terminal(op.Status) {
				done[id] = op
			} else {
				pending = append(pending, op)
			}
		}
		if len(pending) == 0 {
			break
		}
		last = pending
		if err := httpapi.Sleep(wctx, s.cfg.PollInterval); err != nil {
			return nil, s.waitError(ctx, err, timeout, pending)
		}
	}
	out := make([]Operation, len(ids))
	var bad []string
	for i, id := range ids {
		out[i] = done[id]
		if op := out[i]; failed(op.Status) {
			msg := fmt.Sprintf("%s (%s) ended %s", op.ID, op.Action, op.Status)
			if op.Error != "" {
				msg += ": " + op.Error
			}
			bad = append(bad, msg)
		}
	}
	if len(bad) > 0 {
		return out, sdk.Permanent(fmt.Errorf("neon: wait for operations: %s", strings.Join(bad, "; ")))
	}
	return out, nil
}

// waitError explains why a wait stopped: the step was cancelled or ran out
// of time (ctx), or the wait's own timeout passed, or a call failed.
func (s *session) waitError(ctx context.Context, err error, timeout time.Duration, pending []Operation) error {
	var still []string
	for _, op := range pending {
		still = append(still, fmt.Sprintf("%s (%s) is %s", op.ID, op.Action, op.Status))
	}
	running := ""
	if len(still) > 0 {
		running = ": " + strings.Join(still, ", ")
	}
	if ctx.Err() != nil {
		return fmt.Errorf("neon: wait for operations%s: %w", running, ctx.Err())
	}
	if k := sdk.KindOf(err); k != sdk.KindDeadlineExceeded && k != sdk.KindCanceled {
		return err
	}
	return sdk.Errorf(sdk.KindDeadlineExceeded, "neon: wait for operations: not finished after %s%s", timeout, running)
}

// opIDs returns the operations' IDs.
func opIDs(ops []Operation) []string {
	ids := make([]string, len(ops))
	for i, op := range ops {
		ids[i] = op.ID
	}
	return ids
}

// opList is the operations as an output: [{id, action, status, branch_id}].
func opList(ops []Operation) []any {
	out := make([]any, len(ops))
	for i, op := range ops {
		m := map[string]any{"id": op.ID, "action": op.Action, "status": op.Status, "branch_id": op.BranchID}
		if op.Error != "" {
			m["error"] = op.Error
		}
		out[i] = m
	}
	return out
}
