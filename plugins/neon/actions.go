package neon

import (
	"context"
	"time"

	"github.com/alpha-orion/runbook/plugins/neon/neonspec"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// waitOperations runs wait_operations: the given operations, or the
// unfinished ones of a branch.
func (s *session) waitOperations(ctx context.Context) (map[string]any, error) {
	in := inputs(s.req.Inputs)
	ids, err := stringList(s.req.Inputs["operation_ids"])
	if err != nil {
		return nil, err
	}
	ref := in.str("branch")
	switch {
	case len(ids) > 0 && ref != "":
		return nil, sdk.BadInput("neon: wait_operations: give operation_ids or branch, not both")
	case len(ids) == 0 && ref == "":
		return nil, sdk.BadInput("neon: wait_operations: give operation_ids or branch")
	case ref != "":
		b, err := s.client.FindBranch(ctx, ref)
		if err != nil {
			return nil, err
		}
		all, err := s.client.ListOperations(ctx)
		if err != nil {
			return nil, err
		}
		for i := len(all) - 1; i >= 0; i-- {
			if op := all[i]; op.BranchID == b.ID && !terminal(op.Status) {
				ids = append(ids, op.ID)
			}
		}
		if len(ids) == 0 {
			s.log.Printf("branch %s has no unfinished operations", b.Name)
		}
	}
	ops, err := s.waitOps(ctx, ids, in.durationOr("timeout", neonspec.DefaultRestoreTimeout))
	if err != nil {
		return nil, err
	}
	return map[string]any{"operations": opList(ops), "count": len(ops)}, nil
}

// stringList reads a list input of strings.
func stringList(v any) ([]string, error) {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for i, e := range l {
		s, ok := e.(string)
		if !ok || s == "" {
			return nil, sdk.BadInput("neon: operation_ids[%d] is not an operation ID", i)
		}
		out = append(out, s)
	}
	return out, nil
}

// listBranches runs list_branches.
func (s *session) listBranches(ctx context.Context) (map[string]any, error) {
	bs, err := s.client.ListBranches(ctx, inputs(s.req.Inputs).str("search"))
	if err != nil {
		return nil, err
	}
	out := make([]any, len(bs))
	for i, b := range bs {
		out[i] = branchMap(b)
	}
	return map[string]any{"branches": out, "count": len(bs)}, nil
}

// getBranch runs get_branch.
func (s *session) getBranch(ctx context.Context) (map[string]any, error) {
	b, err := s.client.FindBranch(ctx, inputs(s.req.Inputs).str("branch"))
	if err != nil {
		return nil, err
	}
	m := branchMap(b)
	m["created_at"], m["updated_at"] = b.CreatedAt.UTC(), b.UpdatedAt.UTC()
	return m, nil
}

// connectionURI runs connection_uri.
func (s *session) connectionURI(ctx context.Context) (map[string]any, error) {
	var b Branch
	var err error
	if ref := inputs(s.req.Inputs).str("branch"); ref != "" {
		b, err = s.client.FindBranch(ctx, ref)
	} else {
		b, err = s.client.DefaultBranch(ctx)
	}
	if err != nil {
		return nil, err
	}
	uri, err := s.client.ConnectionURI(ctx, s.conn(b.ID))
	if err != nil {
		return nil, err
	}
	return map[string]any{"uri": uri, "host": hostOf(uri), "branch_id": b.ID}, nil
}

// branchMap is a branch as an output, timestamps as RFC 3339 text.
func branchMap(b Branch) map[string]any {
	m := map[string]any{
		"id": b.ID, "name": b.Name, "parent_id": b.ParentID, "parent_lsn": b.ParentLSN, "parent_timestamp": "",
		"current_state": b.CurrentState, "default": b.Default, "restore_status": b.RestoreStatus,
		"restored_from": b.RestoredFrom, "restored_as": b.RestoredAs,
		"created_at": b.CreatedAt.UTC().Format(time.RFC3339Nano),
	}
	if b.ParentTimestamp != nil {
		m["parent_timestamp"] = b.ParentTimestamp.UTC().Format(time.RFC3339Nano)
	}
	return m
}
