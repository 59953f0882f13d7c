package render

import (
	"context"
	"fmt"
	"time"

	"github.com/alpha-orion/runbook/plugins/internal/httpapi"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// service resolves the step's service input.
func (s *session) service(ctx context.Context) (Service, error) {
	ref := s.in.str("service")
	if ref == "" {
		return Service{}, sdk.BadInput("render: %s: input service is empty", s.req.Action)
	}
	return s.client.FindService(ctx, ref)
}

// scale runs scale.
func (s *session) scale(ctx context.Context) (map[string]any, error) {
	n, _ := s.in["instances"].(int)
	if n < minInstances || n > maxInstances {
		return nil, sdk.BadInput("render: scale: instances must be between %d and %d, not %d (Render's manual scaling; to stop a service, use render.suspend)", minInstances, maxInstances, n)
	}
	svc, err := s.service(ctx)
	if err != nil {
		return nil, err
	}
	prev := svc.ServiceDetails.NumInstances
	if prev == n {
		s.log.Printf("service %s already runs %d instances", svc.Name, n)
	} else {
		s.log.Printf("scaling service %s (%s) from %d to %d instances", svc.Name, svc.ID, prev, n)
		if err := s.client.Scale(ctx, svc.ID, n); err != nil {
			return nil, err
		}
		// The API accepts a scale it then ignores (autoscaling on): read
		// the count back rather than report what was asked for.
		after, err := s.client.GetService(ctx, svc.ID)
		if err != nil {
			return nil, err
		}
		if got := after.ServiceDetails.NumInstances; got != n {
			if a := after.ServiceDetails.Autoscaling; a != nil && a.Enabled {
				return nil, sdk.Errorf(sdk.KindPermanent, "render: scale: service %s has autoscaling on (%d to %d instances), so Render ignored the manual count %d and it runs %d; turn autoscaling off first, or use render.suspend to stop it", svc.Name, a.Min, a.Max, n, got)
			}
			return nil, sdk.Errorf(sdk.KindPermanent, "render: scale: Render accepted scaling service %s to %d instances, but it runs %d", svc.Name, n, got)
		}
	}
	return map[string]any{"service_id": svc.ID, "previous_instances": prev, "instances": n}, nil
}

// reconcileScale: the count is the target → Applied; the count before is
// lost then, so previous_instances is left out and an undo that needs it
// fails loudly instead of scaling to a guess. Otherwise running the step
// (idempotent) is safe.
func (s *session) reconcileScale(ctx context.Context) (sdk.Reconciliation, error) {
	svc, err := s.service(ctx)
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	n, _ := s.in["instances"].(int)
	if svc.ServiceDetails.NumInstances != n {
		return sdk.Reconciliation{State: sdk.NotApplied}, nil
	}
	return sdk.Reconciliation{State: sdk.Applied, Outputs: map[string]any{"service_id": svc.ID, "instances": n}}, nil
}

// setSuspended runs suspend (on true) or resume.
func (s *session) setSuspended(ctx context.Context, suspend bool) (map[string]any, error) {
	svc, err := s.service(ctx)
	if err != nil {
		return nil, err
	}
	was := svc.IsSuspended()
	switch {
	case was == suspend:
		s.log.Printf("service %s is already %s", svc.Name, svc.Suspended)
	case suspend:
		s.log.Printf("suspending service %s (%s)", svc.Name, svc.ID)
		err = s.client.Suspend(ctx, svc.ID)
	default:
		s.log.Printf("resuming service %s (%s)", svc.Name, svc.ID)
		err = s.client.Resume(ctx, svc.ID)
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"service_id": svc.ID, "suspended": suspend, "was_suspended": was}, nil
}

// reconcileSuspended: the service in the wanted state → Applied.
func (s *session) reconcileSuspended(ctx context.Context, suspend bool) (sdk.Reconciliation, error) {
	svc, err := s.service(ctx)
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	if svc.IsSuspended() != suspend {
		return sdk.Reconciliation{State: sdk.NotApplied}, nil
	}
	// The state before is lost: was_suspended is left out rather than guessed.
	return sdk.Reconciliation{State: sdk.Applied, Outputs: map[string]any{"service_id": svc.ID, "suspended": suspend}}, nil
}

// restart runs restart.
func (s *session) restart(ctx context.Context) (map[string]any, error) {
	svc, err := s.service(ctx)
	if err != nil {
		return nil, err
	}
	s.log.Printf("restarting service %s (%s)", svc.Name, svc.ID)
	if err := s.client.Restart(ctx, svc.ID); err != nil {
		return nil, err
	}
	return map[string]any{"service_id": svc.ID}, nil
}

// getService runs get_service.
func (s *session) getService(ctx context.Context) (map[string]any, error) {
	svc, err := s.service(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"id": svc.ID, "name": svc.Name, "type": svc.Type, "instances": svc.ServiceDetails.NumInstances,
		"suspended": svc.IsSuspended(), "region": svc.ServiceDetails.Region, "url": svc.ServiceDetails.URL,
		"dashboard_url": svc.DashboardURL,
	}, nil
}

// envTarget is the service or environment group a variable belongs to.
type envTarget struct {
	id, desc string
	current  func(context.Context) (string, bool, error)
	put      func(context.Context, string) error
}

// envTarget resolves set_env's service or group, or set_group_env's group.
func (s *session) envTarget(ctx context.Context) (envTarget, error) {
	key := s.in.str("key")
	svcRef, groupRef := s.in.str("service"), s.in.str("group")
	switch {
	case key == "":
		return envTarget{}, sdk.BadInput("render: %s: input key is empty", s.req.Action)
	case svcRef != "" && groupRef != "":
		return envTarget{}, sdk.BadInput("render: %s: give service or group, not both", s.req.Action)
	case svcRef == "" && groupRef == "":
		return envTarget{}, sdk.BadInput("render: %s: give service or group", s.req.Action)
	case svcRef != "":
		svc, err := s.client.FindService(ctx, svcRef)
		if err != nil {
			return envTarget{}, err
		}
		return envTarget{
			id: svc.ID, desc: "service " + svc.Name,
			current: func(ctx context.Context) (string, bool, error) { return s.client.GetEnvVar(ctx, svc.ID, key) },
			put:     func(ctx context.Context, v string) error { return s.client.PutEnvVar(ctx, svc.ID, key, v) },
		}, nil
	}
	g, err := s.client.FindEnvGroup(ctx, groupRef)
	if err != nil {
		return envTarget{}, err
	}
	return envTarget{
		id: g.ID, desc: "environment group " + g.Name,
		current: func(ctx context.Context) (string, bool, error) {
			g, err := s.client.GetEnvGroup(ctx, g.ID)
			v, ok := g.Var(key)
			return v, ok, err
		},
		put: func(ctx context.Context, v string) error { return s.client.PutEnvGroupVar(ctx, g.ID, key, v) },
	}, nil
}

// value is the step's value input, untrimmed.
func (s *session) value() string { v, _ := s.req.Inputs["value"].(string); return v }

// setEnv runs set_env and set_group_env; the value is never printed.
func (s *session) setEnv(ctx context.Context) (map[string]any, error) {
	t, err := s.envTarget(ctx)
	if err != nil {
		return nil, err
	}
	key := s.in.str("key")
	cur, set, err := t.current(ctx)
	if err != nil {
		return nil, err
	}
	changed := !set || cur != s.value()
	if changed {
		s.log.Printf("setting %s of %s", key, t.desc)
		if err := t.put(ctx, s.value()); err != nil {
			return nil, err
		}
	} else {
		s.log.Printf("%s of %s already has the value", key, t.desc)
	}
	return map[string]any{"target_id": t.id, "previous_value_set": set, "changed": changed}, nil
}

// reconcileEnv: the variable has the value → Applied. Whether it had one
// before is lost, so previous_value_set is left out, and changed is
// reported true so a guarded redeploy still runs (a redundant one is
// harmless, a missing one is not).
func (s *session) reconcileEnv(ctx context.Context) (sdk.Reconciliation, error) {
	t, err := s.envTarget(ctx)
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	cur, set, err := t.current(ctx)
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	if !set || cur != s.value() {
		return sdk.Reconciliation{State: sdk.NotApplied}, nil
	}
	return sdk.Reconciliation{State: sdk.Applied, Outputs: map[string]any{"target_id": t.id, "changed": true}}, nil
}

// deploy runs deploy: trigger, find the deploy (Render may answer 202
// without it), and wait until it is live.
func (s *session) deploy(ctx context.Context) (map[string]any, error) {
	svc, err := s.service(ctx)
	if err != nil {
		return nil, err
	}
	req := DeployRequest{CommitID: s.in.str("commit_id"), ImageURL: s.in.str("image_url")}
	if s.in.boolOr("clear_cache", false) {
		req.ClearCache = "clear"
	}
	known, err := s.client.ListDeploys(ctx, svc.ID, 20)
	if err != nil {
		return nil, err
	}
	s.log.Printf("deploying service %s (%s)", svc.Name, svc.ID)
	d, ok, err := s.client.CreateDeploy(ctx, svc.ID, req, known)
	if err != nil {
		return nil, err
	}
	if !ok {
		if d, err = s.newDeploy(ctx, svc.ID, known); err != nil {
			return nil, err
		}
	}
	s.log.Printf("deploy %s of service %s: %s", d.ID, svc.Name, d.Status)
	if s.in.boolOr("wait", true) {
		if d, err = s.waitDeploy(ctx, svc, d); err != nil {
			return nil, err
		}
	}
	return deployOutputs(svc.ID, d), nil
}

// newDeploy finds the deploy a 202 answer did not return: the newest one
// that was not there before.
func (s *session) newDeploy(ctx context.Context, serviceID string, known []Deploy) (Deploy, error) {
	seen := map[string]bool{}
	for _, d := range known {
		seen[d.ID] = true
	}
	latest, err := s.client.ListDeploys(ctx, serviceID, 20)
	if err != nil {
		return Deploy{}, err
	}
	for _, d := range latest {
		if !seen[d.ID] {
			return d, nil
		}
	}
	return Deploy{}, sdk.Retryable(fmt.Errorf("render: deploy service %s: Render accepted the deploy but it is not listed yet", serviceID))
}

// waitDeploy polls a deploy until it is final: live, or an error naming
// the status it ended in.
func (s *session) waitDeploy(ctx context.Context, svc Service, d Deploy) (Deploy, error) {
	timeout := s.in.durationOr("timeout", DefaultDeployTimeout)
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	status := d.Status
	for !deployDone(d.Status) {
		if err := httpapi.Sleep(wctx, s.cfg.PollInterval); err != nil {
			return d, s.deployTimeout(ctx, svc, d, timeout)
		}
		next, err := s.client.GetDeploy(wctx, svc.ID, d.ID)
		if err != nil {
			if wctx.Err() != nil {
				return d, s.deployTimeout(ctx, svc, d, timeout)
			}
			return d, err
		}
		d = next
		if d.Status != status {
			status = d.Status
			s.log.Printf("deploy %s of service %s: %s", d.ID, svc.Name, status)
		}
	}
	if d.Status != DeployLive {
		return d, sdk.Permanent(fmt.Errorf("render: deploy %s of service %s (%s) ended %s", d.ID, svc.Name, svc.ID, d.Status))
	}
	return d, nil
}

// deployTimeout explains a wait that ran out of time: the step's (ctx) or the input's.
func (s *session) deployTimeout(ctx context.Context, svc Service, d Deploy, timeout time.Duration) error {
	if ctx.Err() != nil {
		return fmt.Errorf("render: wait for deploy %s of service %s (still %s): %w", d.ID, svc.Name, d.Status, ctx.Err())
	}
	return sdk.Errorf(sdk.KindDeadlineExceeded, "render: wait for deploy %s of service %s: still %s after %s", d.ID, svc.Name, d.Status, timeout)
}

// reconcileDeploy finds the deploy of the step's commit after a crash: when
// the service's newest deploy is an API deploy of commit_id it is this
// step's (Applied once live; waited for when in progress and wait is set).
// Without a commit_id nothing tells this step's deploy from another's, so
// the answer is Unknown and the engine asks before deploying again.
func (s *session) reconcileDeploy(ctx context.Context) (sdk.Reconciliation, error) {
	commit := s.in.str("commit_id")
	if commit == "" {
		return sdk.Reconciliation{State: sdk.Unknown}, nil
	}
	svc, err := s.service(ctx)
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	ds, err := s.client.ListDeploys(ctx, svc.ID, 1)
	if err != nil {
		return sdk.Reconciliation{}, err
	}
	if len(ds) == 0 || ds[0].CommitID() != commit || (ds[0].Trigger != "" && ds[0].Trigger != "api") {
		return sdk.Reconciliation{State: sdk.Unknown}, nil
	}
	d := ds[0]
	if !deployDone(d.Status) && s.in.boolOr("wait", true) {
		if d, err = s.waitDeploy(ctx, svc, d); err != nil {
			return sdk.Reconciliation{State: sdk.Unknown}, nil
		}
	}
	if deployDone(d.Status) && d.Status != DeployLive {
		return sdk.Reconciliation{State: sdk.Unknown}, nil
	}
	return sdk.Reconciliation{State: sdk.Applied, Outputs: deployOutputs(svc.ID, d)}, nil
}

func deployOutputs(serviceID string, d Deploy) map[string]any {
	return map[string]any{"service_id": serviceID, "deploy_id": d.ID, "status": d.Status, "commit_id": d.CommitID()}
}
