package sdk

import (
	"context"
	"errors"
	"fmt"

	"github.com/alpha-orion/runbook/engine/catalog"
	pb "github.com/alpha-orion/runbook/plugins/proto"
)

// This file converts between the SDK's types and the protocol's messages.

var kindsToPB = map[Kind]pb.ErrorKind{
	KindUnknown:          pb.ErrorKind_ERROR_KIND_UNSPECIFIED,
	KindPermanent:        pb.ErrorKind_ERROR_KIND_PERMANENT,
	KindRetryable:        pb.ErrorKind_ERROR_KIND_RETRYABLE,
	KindBadInput:         pb.ErrorKind_ERROR_KIND_BAD_INPUT,
	KindNotFound:         pb.ErrorKind_ERROR_KIND_NOT_FOUND,
	KindUnauthenticated:  pb.ErrorKind_ERROR_KIND_UNAUTHENTICATED,
	KindPermissionDenied: pb.ErrorKind_ERROR_KIND_PERMISSION_DENIED,
	KindConflict:         pb.ErrorKind_ERROR_KIND_CONFLICT,
	KindCanceled:         pb.ErrorKind_ERROR_KIND_CANCELED,
	KindDeadlineExceeded: pb.ErrorKind_ERROR_KIND_DEADLINE_EXCEEDED,
	KindUnimplemented:    pb.ErrorKind_ERROR_KIND_UNIMPLEMENTED,
	KindCrashed:          pb.ErrorKind_ERROR_KIND_CRASHED,
}

var kindsFromPB = func() map[pb.ErrorKind]Kind {
	m := make(map[pb.ErrorKind]Kind, len(kindsToPB))
	for k, v := range kindsToPB {
		m[v] = k
	}
	return m
}()

// errorToPB converts err for the wire, masking secrets in its message.
func errorToPB(err error, mask func(string) string) *pb.Error {
	if err == nil {
		return nil
	}
	return &pb.Error{Kind: kindsToPB[KindOf(err)], Message: mask(err.Error())}
}

// errorFromPB rebuilds a plugin's error on the host's side.
func errorFromPB(e *pb.Error) error {
	if e == nil {
		return nil
	}
	kind, ok := kindsFromPB[e.GetKind()]
	if !ok || kind == KindCrashed {
		// A kind from a newer protocol revision, or one only the host may
		// give: a live plugin cannot have crashed.
		kind = KindUnknown
	}
	// The plugin may see a deadline or cancellation first: keep errors.Is
	// with the context sentinel true, as when the host sees it first.
	for k, sentinel := range map[Kind]error{KindDeadlineExceeded: context.DeadlineExceeded, KindCanceled: context.Canceled} {
		switch {
		case kind != k:
		case e.GetMessage() == sentinel.Error():
			return &Error{Kind: kind, Err: sentinel}
		default:
			return &Error{Kind: kind, Err: fmt.Errorf("%s: %w", e.GetMessage(), sentinel)}
		}
	}
	return &Error{Kind: kind, Err: errors.New(e.GetMessage())}
}

func stateToPB(s State) pb.ReconcileState {
	switch s {
	case Applied:
		return pb.ReconcileState_RECONCILE_STATE_APPLIED
	case NotApplied:
		return pb.ReconcileState_RECONCILE_STATE_NOT_APPLIED
	}
	return pb.ReconcileState_RECONCILE_STATE_UNKNOWN
}

func stateFromPB(s pb.ReconcileState) State {
	switch s {
	case pb.ReconcileState_RECONCILE_STATE_APPLIED:
		return Applied
	case pb.ReconcileState_RECONCILE_STATE_NOT_APPLIED:
		return NotApplied
	}
	return Unknown
}

func specToPB(p catalog.Plugin) *pb.PluginSpec {
	s := &pb.PluginSpec{Name: p.Name, Description: p.Description, Config: fieldsToPB(p.Config)}
	for _, a := range p.Actions {
		s.Actions = append(s.Actions, &pb.Action{
			Name:        a.Name,
			Description: a.Description,
			Inputs:      fieldsToPB(a.Inputs),
			Outputs:     fieldsToPB(a.Outputs),
			Destructive: a.Destructive,
			Idempotent:  a.Idempotent,
		})
	}
	return s
}

func specFromPB(s *pb.PluginSpec) catalog.Plugin {
	p := catalog.Plugin{Name: s.GetName(), Description: s.GetDescription(), Config: fieldsFromPB(s.GetConfig())}
	for _, a := range s.GetActions() {
		p.Actions = append(p.Actions, catalog.Action{
			Name:        a.GetName(),
			Description: a.GetDescription(),
			Inputs:      fieldsFromPB(a.GetInputs()),
			Outputs:     fieldsFromPB(a.GetOutputs()),
			Destructive: a.GetDestructive(),
			Idempotent:  a.GetIdempotent(),
		})
	}
	return p
}

func fieldsToPB(fs []catalog.Field) []*pb.Field {
	out := make([]*pb.Field, len(fs))
	for i, f := range fs {
		out[i] = &pb.Field{Name: f.Name, Type: string(f.Type), Required: f.Required, Secret: f.Secret, Description: f.Description}
	}
	return out
}

func fieldsFromPB(fs []*pb.Field) []catalog.Field {
	if len(fs) == 0 {
		return nil
	}
	out := make([]catalog.Field, len(fs))
	for i, f := range fs {
		out[i] = catalog.Field{Name: f.GetName(), Type: catalog.Type(f.GetType()), Required: f.GetRequired(), Secret: f.GetSecret(), Description: f.GetDescription()}
	}
	return out
}

// requestToPB encodes a step request; inputs go as they are, typed by the engine.
func requestToPB(r Request) (*pb.StepRequest, error) {
	in, err := encodeMap(r.Inputs)
	if err != nil {
		return nil, Errorf(KindBadInput, "input %w", err)
	}
	return &pb.StepRequest{
		RunId:          r.RunID,
		StepId:         r.StepID,
		Action:         r.Action,
		Inputs:         in,
		IdempotencyKey: r.IdempotencyKey,
		Attempt:        uint32(max(r.Attempt, 0)),
	}, nil
}
