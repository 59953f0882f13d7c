package run

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/eval"
	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// approvalInfo is who approved a step and when.
type approvalInfo struct {
	by string
	at time.Time
}

// gate returns the approval a step needs before it runs, if any.
func (r *runner) gate(s *load.Step, inputs map[string]any) (kind, msg string, err error) {
	id := s.ID.Value
	r.mu.Lock()
	why, rerun := r.rerun[id]
	r.mu.Unlock()
	if rerun {
		return "rerun", fmt.Sprintf("step %s may have taken effect (%s); check by hand, then approve it to run again: only an explicit approval of this step does (--approve %s, or a person at the prompt); --yes and the step's earlier approval do not", id, why, id), nil
	}
	if s.Confirm != nil {
		v, err := r.resolve(s.Confirm)
		if err != nil {
			return "", "", stepErr(sdk.KindBadInput, "confirm: %v", err)
		}
		kind, msg = "confirm", eval.Text(v)
	}
	switch s.Uses.Value {
	case catalog.BuiltinApproval:
		kind, msg = "approval", join(msg, fmt.Sprint(inputs["message"]))
	case catalog.BuiltinManual:
		kind, msg = "manual", join(msg, fmt.Sprint(inputs["instructions"]))
	}
	return kind, msg, nil
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "\n" + b
}

// ApprovalDigest identifies what is being approved: the step, the kind of
// approval, its message and the step's resolved inputs (secrets masked).
// An approval recorded for one digest is not valid for another.
func ApprovalDigest(step, kind, msg string, inputs map[string]any) string {
	data, _ := json.Marshal(struct {
		Step   string         `json:"step"`
		Kind   string         `json:"kind"`
		Msg    string         `json:"message"`
		Inputs map[string]any `json:"inputs"`
	}{step, kind, msg, inputs})
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

// gates asks for the step's approval. It returns false when the step must
// not go on; the step's state has then been recorded (paused or failed).
func (r *runner) gates(ctx context.Context, s *load.Step, inputs map[string]any) bool {
	id := s.ID.Value
	kind, msg, err := r.gate(s, inputs)
	if err != nil {
		r.finishFailed(s, 0, err)
		return false
	}
	if kind == "" {
		return true
	}
	shown, _ := r.o.Redactor.Value(inputs).(map[string]any)
	msg = r.o.Redactor.String(msg)
	digest := ApprovalDigest(id, kind, msg, shown)
	r.mu.Lock()
	granted := r.approvals[id] == digest
	r.mu.Unlock()
	if granted {
		return true
	}
	who, err := "", ErrNeedsApproval
	if r.o.Approver != nil {
		who, err = r.o.Approver.Approve(ctx, ApprovalRequest{Step: id, Kind: kind, Message: msg, Digest: digest, Inputs: shown})
	}
	switch {
	case err == nil:
		now := r.o.Now()
		r.mu.Lock()
		r.approvals[id] = digest
		r.approvedBy()[id] = approvalInfo{by: who, at: now}
		delete(r.rerun, id)
		r.mu.Unlock()
		r.record(journal.Event{Type: journal.ApprovalGranted, Step: id, Kind: kind, By: who, Digest: digest, Message: msg}, true)
		return true
	case errors.Is(err, ErrNeedsApproval) && kind == "manual" && s.Phase != load.Main:
		// Nobody can confirm now, and cleanup must not wait: the
		// instructions are delivered in full and the step is recorded as
		// notified (confirmed_by stays empty).
		r.record(journal.Event{Type: journal.StepLog, Step: id, Kind: "warn", Message: "notified, nobody confirmed yet: " + msg}, true)
		return true
	case errors.Is(err, ErrNeedsApproval):
		r.mu.Lock()
		if r.pause == nil {
			r.pause = &Pause{Step: id, Kind: kind, Message: msg, Digest: digest}
		}
		r.mu.Unlock()
		r.setState(id, journal.StatusPaused, nil)
		r.record(journal.Event{Type: journal.ApprovalRequested, Step: id, Kind: kind, Digest: digest, Message: msg}, true)
		return false
	case errors.Is(err, ErrDenied):
		r.finishFailed(s, 0, stepErr(sdk.KindPermanent, "%s not approved", kind))
		return false
	default:
		if ctx.Err() != nil {
			r.setState(id, journal.StatusPending, nil)
			return false
		}
		r.finishFailed(s, 0, stepErr(sdk.KindPermanent, "approval: %v", err))
		return false
	}
}

// approvedBy lazily creates the map of approvers; callers hold r.mu.
func (r *runner) approvedBy() map[string]approvalInfo {
	if r.approvers == nil {
		r.approvers = map[string]approvalInfo{}
	}
	return r.approvers
}

// approvalOutputs are the outputs of a manual or approval step.
func (r *runner) approvalOutputs(s *load.Step) map[string]any {
	r.mu.Lock()
	info := r.approvedBy()[s.ID.Value]
	r.mu.Unlock()
	if s.Uses.Value == catalog.BuiltinManual {
		return map[string]any{"confirmed_by": info.by, "confirmed_at": info.at}
	}
	return map[string]any{"approved_by": info.by, "approved_at": info.at}
}
