package render

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/plugins/internal/plugintest"
	"github.com/alpha-orion/runbook/plugins/render/renderemu"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// TestScaleAndUndo: scale reports the count before, and scaling to it
// restores the service.
func TestScaleAndUndo(t *testing.T) {
	t.Parallel()
	f := newFixture(t, renderemu.Options{}, nil)
	api := f.estate.UserAPI

	down := f.Must("scale", map[string]any{"service": "user-api-service", "instances": 1}, "shrink-api")
	if got, want := down, map[string]any{"service_id": api.ID, "previous_instances": 2, "instances": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("scale to 1 = %v, want %v", got, want)
	}
	if got := f.emu.Instances(api.ID); got != 1 {
		t.Errorf("after scale to 1: %d instances", got)
	}
	rec, err := f.Reconcile("scale", map[string]any{"service": "user-api-service", "instances": 1}, "shrink-api")
	if err != nil || rec.State != sdk.Applied || rec.Outputs["instances"] != 1 {
		t.Errorf("Reconcile scale to 1 = %v %v, %v; want applied", rec.State, rec.Outputs, err)
	}
	if _, has := rec.Outputs["previous_instances"]; has {
		t.Errorf("Reconcile guessed previous_instances: %v", rec.Outputs)
	}
	if rec, err := f.Reconcile("scale", map[string]any{"service": api.ID, "instances": 5}, "other"); err != nil || rec.State != sdk.NotApplied {
		t.Errorf("Reconcile scale to 5 = %v, %v; want not_applied", rec.State, err)
	}

	// The undo: scale back to previous_instances, naming the service by ID.
	up := f.Must("scale", map[string]any{"service": api.ID, "instances": down["previous_instances"]}, "shrink-api/undo")
	if up["previous_instances"] != 1 || up["instances"] != 2 {
		t.Errorf("undo = %v", up)
	}
	if got := f.emu.Instances(api.ID); got != 2 {
		t.Errorf("after the undo: %d instances, want 2", got)
	}
	// Idempotent: scaling to the current count calls no scale.
	r := f.Exec("scale", map[string]any{"service": api.ID, "instances": 2}, "again")
	if r.Err != nil || !strings.Contains(strings.Join(r.Lines, "\n"), "already runs 2 instances") {
		t.Errorf("scale to the current count: %v %q", r.Err, r.Lines)
	}
	if got, want := f.emu.ScaleEvents(api.ID), []int{1, 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("scale events = %v, want %v", got, want)
	}
}

// TestScaleOutsideManualRange: Render's manual scaling takes 1 to 100
// instances (docs.render.com/scaling, read 2026-12-03). The plugin refuses
// other counts before calling, and the emulator answers 400 as the API does.
func TestScaleOutsideManualRange(t *testing.T) {
	t.Parallel()
	f := newFixture(t, renderemu.Options{}, nil)
	api := f.estate.UserAPI
	for _, n := range []int{-1, 0, 101} {
		bad := f.Exec("scale", map[string]any{"service": api.ID, "instances": n}, "")
		plugintest.WantKind(t, bad.Err, sdk.KindBadInput, "render: scale", "between 1 and 100", "render.suspend")
		err := NewClient(f.url, f.emu.APIKey()).Scale(context.Background(), api.ID, n)
		plugintest.WantKind(t, err, sdk.KindBadInput, "between 1 and 100")
	}
	if got := f.emu.ScaleEvents(api.ID); len(got) != 0 {
		t.Errorf("scale events = %v, want none", got)
	}
	if got := f.emu.Instances(api.ID); got != 2 {
		t.Errorf("instances = %d, want 2 unchanged", got)
	}
}

// TestScaleIgnoredWhileAutoscaling: Render accepts a manual scale of a
// service with autoscaling on and ignores it (ScaleService in Render's
// OpenAPI document); the plugin reads the count back and fails, saying why,
// instead of reporting the count it asked for.
func TestScaleIgnoredWhileAutoscaling(t *testing.T) {
	t.Parallel()
	f := newFixture(t, renderemu.Options{}, nil)
	svc, err := f.emu.AddService(renderemu.ServiceSpec{Name: "autoscaled-api", NumInstances: 3,
		Autoscaling: &renderemu.Autoscaling{Enabled: true, Min: 2, Max: 5}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		instances int
	}{{"below the range", 1}, {"inside the range", 4}} {
		r := f.Exec("scale", map[string]any{"service": svc.Name, "instances": tc.instances}, "")
		plugintest.WantKind(t, r.Err, sdk.KindPermanent, "autoscaling on (2 to 5 instances)", "ignored the manual count", "runs 3")
	}
	if got, want := f.emu.ScaleEvents(svc.ID), []int{1, 4}; !reflect.DeepEqual(got, want) {
		t.Errorf("scale calls = %v, want %v (sent, then ignored)", got, want)
	}
	if got := f.emu.Instances(svc.ID); got != 3 {
		t.Errorf("instances = %d, want 3: Render ignores a manual count while autoscaling", got)
	}
}

// TestPlanPredictsUndoOutputs: a plan reads the service, so it predicts the
// outputs an undo needs (and a sabotaged drill step reports them).
func TestPlanPredictsUndoOutputs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, renderemu.Options{}, nil)
	api := f.estate.UserAPI
	tests := []struct {
		action string
		in     map[string]any
		want   map[string]any
	}{
		{"scale", map[string]any{"service": "user-api-service", "instances": 3}, map[string]any{"service_id": api.ID, "previous_instances": 2, "instances": 3}},
		{"suspend", map[string]any{"service": "user-api-service"}, map[string]any{"service_id": api.ID, "suspended": true, "was_suspended": false}},
		{"resume", map[string]any{"service": "user-api-service"}, map[string]any{"service_id": api.ID, "suspended": false, "was_suspended": false}},
	}
	for _, tt := range tests {
		pl, err := f.Mgr.Plan(context.Background(), Name, sdk.Request{RunID: "run-1", StepID: tt.action, Action: tt.action, Inputs: tt.in, Attempt: 1})
		if err != nil || !reflect.DeepEqual(pl.Outputs, tt.want) {
			t.Errorf("Plan %s = %v, %v; want %v", tt.action, pl.Outputs, err, tt.want)
		}
	}
	if got := f.emu.ScaleEvents(api.ID); len(got) != 0 {
		t.Errorf("a plan scaled: %v", got)
	}
}

func TestSuspendResumeRestart(t *testing.T) {
	t.Parallel()
	f := newFixture(t, renderemu.Options{}, nil)
	mon := f.estate.Monitor

	s := f.Must("suspend", map[string]any{"service": "blockchain-monitor"}, "s")
	if s["suspended"] != true || s["was_suspended"] != false || s["service_id"] != mon.ID {
		t.Errorf("suspend = %v", s)
	}
	if got, _ := f.emu.Service(mon.ID); got.Suspended != renderemu.Suspended {
		t.Errorf("after suspend: %s", got.Suspended)
	}
	if rec, err := f.Reconcile("suspend", map[string]any{"service": mon.ID}, "s"); err != nil || rec.State != sdk.Applied {
		t.Errorf("Reconcile suspend = %v, %v", rec.State, err)
	}
	if rec, err := f.Reconcile("resume", map[string]any{"service": mon.ID}, "r"); err != nil || rec.State != sdk.NotApplied {
		t.Errorf("Reconcile resume while suspended = %v, %v", rec.State, err)
	}
	again := f.Must("suspend", map[string]any{"service": mon.ID}, "s2")
	if again["was_suspended"] != true {
		t.Errorf("suspend twice = %v", again)
	}
	r := f.Must("resume", map[string]any{"service": mon.ID}, "r")
	if r["suspended"] != false || r["was_suspended"] != true {
		t.Errorf("resume = %v", r)
	}
	if got, _ := f.emu.Service(mon.ID); got.Suspended != renderemu.NotSuspended {
		t.Errorf("after resume: %s", got.Suspended)
	}

	f.Must("restart", map[string]any{"service": "user-api-service"}, "restart")
	if got := f.emu.Restarts(f.estate.UserAPI.ID); got != 1 {
		t.Errorf("restarts = %d, want 1", got)
	}
	if rec, err := f.Reconcile("restart", map[string]any{"service": "user-api-service"}, "restart"); err != nil || rec.State != sdk.Unknown {
		t.Errorf("Reconcile restart = %v, %v; want unknown (a restart leaves no trace)", rec.State, err)
	}
}

func TestDeploy(t *testing.T) {
	t.Parallel()
	f := newFixture(t, renderemu.Options{PollsPerStep: 2}, nil)
	api := f.estate.UserAPI

	t.Run("live", func(t *testing.T) {
		r := f.Exec("deploy", map[string]any{"service": "user-api-service", "commit_id": "c0ffee", "clear_cache": true}, "deploy-1")
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		if r.Out["status"] != "live" || r.Out["commit_id"] != "c0ffee" {
			t.Errorf("deploy = %v", r.Out)
		}
		ds := f.emu.Deploys(api.ID)
		if last := ds[len(ds)-1]; last.ID != r.Out["deploy_id"] || last.Status != "live" {
			t.Errorf("the emulator's last deploy is %+v, want %v live", last, r.Out["deploy_id"])
		}
		log := strings.Join(r.Lines, "\n")
		for _, st := range []string{"build_in_progress", "update_in_progress", "live"} {
			if !strings.Contains(log, st) {
				t.Errorf("the log does not show %s:\n%s", st, log)
			}
		}
		rec, err := f.Reconcile("deploy", map[string]any{"service": "user-api-service", "commit_id": "c0ffee"}, "deploy-1")
		if err != nil || rec.State != sdk.Applied || rec.Outputs["deploy_id"] != r.Out["deploy_id"] {
			t.Errorf("Reconcile = %v %v, %v; want applied with %v", rec.State, rec.Outputs, err, r.Out["deploy_id"])
		}
		for _, in := range []map[string]any{
			{"service": "user-api-service"},                       // no commit: cannot tell
			{"service": "user-api-service", "commit_id": "other"}, // the newest deploy is another commit
		} {
			if rec, err := f.Reconcile("deploy", in, "deploy-1"); err != nil || rec.State != sdk.Unknown {
				t.Errorf("Reconcile %v = %v, %v; want unknown", in, rec.State, err)
			}
		}
	})
	t.Run("build_failed", func(t *testing.T) {
		f.emu.FailNextDeploys(1)
		r := f.Exec("deploy", map[string]any{"service": api.ID}, "deploy-2")
		plugintest.WantKind(t, r.Err, sdk.KindPermanent, "render: deploy dep-", "user-api-service", "ended build_failed")
	})
	t.Run("202 without a body", func(t *testing.T) {
		f.emu.AnswerNextDeploysWithoutBody(1)
		r := f.Exec("deploy", map[string]any{"service": api.ID}, "deploy-3")
		if r.Err != nil || r.Out["status"] != "live" || !strings.HasPrefix(r.Out["deploy_id"].(string), "dep-") {
			t.Errorf("deploy answered 202 = %v, %v", r.Out, r.Err)
		}
	})
	t.Run("no wait", func(t *testing.T) {
		r := f.Exec("deploy", map[string]any{"service": api.ID, "wait": false}, "deploy-4")
		if r.Err != nil || r.Out["status"] != "created" {
			t.Errorf("deploy without waiting = %v, %v; want status created", r.Out, r.Err)
		}
		f.emu.FinishDeploys()
	})
	t.Run("timeout", func(t *testing.T) {
		slow := newFixture(t, renderemu.Options{PollsPerStep: 1000}, nil)
		r := slow.Exec("deploy", map[string]any{"service": "user-api-service", "timeout": 30 * time.Millisecond}, "deploy-5")
		plugintest.WantKind(t, r.Err, sdk.KindDeadlineExceeded, "render: wait for deploy", "still created after 30ms")
	})
}

// secretValue stands for a DATABASE_URL with a password: it must never be printed.
const secretValue = "postgres://app:pa55-canary-value@db.internal/app"

func TestSetEnv(t *testing.T) {
	t.Parallel()
	f := newFixture(t, renderemu.Options{}, nil)
	f.Canaries.Add(secretValue)
	api, prod := f.estate.UserAPI, f.estate.Production

	in := map[string]any{"service": "user-api-service", "key": "DATABASE_URL", "value": secretValue}
	if rec, err := f.Reconcile("set_env", in, "env-1"); err != nil || rec.State != sdk.NotApplied {
		t.Fatalf("Reconcile before = %v, %v", rec.State, err)
	}
	out := f.Must("set_env", in, "env-1")
	if want := map[string]any{"target_id": api.ID, "previous_value_set": false, "changed": true}; !reflect.DeepEqual(out, want) {
		t.Errorf("set_env = %v, want %v", out, want)
	}
	if got := f.emu.EnvVars(api.ID)["DATABASE_URL"]; got != secretValue {
		t.Errorf("the service's DATABASE_URL = %q", got)
	}
	rec, err := f.Reconcile("set_env", in, "env-1")
	if err != nil || rec.State != sdk.Applied || rec.Outputs["target_id"] != api.ID {
		t.Errorf("Reconcile after = %v %v, %v; want applied", rec.State, rec.Outputs, err)
	}
	same := f.Must("set_env", in, "env-1")
	if same["changed"] != false || same["previous_value_set"] != true {
		t.Errorf("set_env again = %v, want unchanged", same)
	}

	for _, tc := range []struct {
		action string
		in     map[string]any
	}{
		{"set_group_env", map[string]any{"group": "production", "key": "DATABASE_URL", "value": secretValue}},
		{"set_env", map[string]any{"group": prod.ID, "key": "NEW_KEY", "value": secretValue}},
	} {
		out := f.Must(tc.action, tc.in, tc.action)
		if out["target_id"] != prod.ID || out["changed"] != true {
			t.Errorf("%s = %v", tc.action, out)
		}
		if got := f.emu.EnvGroupVars(prod.ID)[tc.in["key"].(string)]; got != secretValue {
			t.Errorf("%s: the group's %s = %q", tc.action, tc.in["key"], got)
		}
		if rec, err := f.Reconcile(tc.action, tc.in, tc.action); err != nil || rec.State != sdk.Applied {
			t.Errorf("Reconcile %s = %v, %v", tc.action, rec.State, err)
		}
	}

	// The value stays hidden when the API fails and even when it quotes it.
	other := map[string]any{"service": api.ID, "key": "DATABASE_URL", "value": secretValue + "-2"}
	f.contract.Allow(http.StatusUnprocessableEntity) // injected: the contract lists no 422 for this PUT
	f.emu.InjectFault(renderemu.Fault{Status: http.StatusUnprocessableEntity, Method: "PUT", Message: "value " + secretValue + "-2 is invalid"})
	r := f.Exec("set_env", other, "env-bad")
	plugintest.WantKind(t, r.Err, sdk.KindBadInput, "render: set env var DATABASE_URL of service "+api.ID, "422", "***")
	f.emu.InjectFault(renderemu.Fault{Status: http.StatusInternalServerError, Times: 100, Method: "PUT"})
	r = f.Exec("set_env", other, "env-storm")
	plugintest.WantKind(t, r.Err, sdk.KindRetryable, "render: set env var DATABASE_URL", "500", "gave up")
	f.emu.ClearFaults()

	for _, bad := range []map[string]any{
		{"key": "K", "value": "v"},
		{"service": "user-api-service", "group": "production", "key": "K", "value": "v"},
	} {
		r := f.Exec("set_env", bad, "")
		plugintest.WantKind(t, r.Err, sdk.KindBadInput, "render: set_env", "service or group")
	}
}

func TestGetService(t *testing.T) {
	t.Parallel()
	f := newFixture(t, renderemu.Options{}, nil)
	api := f.estate.UserAPI
	for _, ref := range []string{"user-api-service", api.ID} {
		out := f.Must("get_service", map[string]any{"service": ref}, "")
		want := map[string]any{"id": api.ID, "name": "user-api-service", "type": "web_service", "instances": 2,
			"suspended": false, "region": "oregon", "url": api.ServiceDetails.URL, "dashboard_url": api.DashboardURL}
		if !reflect.DeepEqual(out, want) {
			t.Errorf("get_service %s = %v, want %v", ref, out, want)
		}
	}
}

// TestFaults: a 503 storm (retried, then retryable), a short burst
// (absorbed), a wrong key, unknown services and groups, a slow API and a
// step deadline.
func TestFaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t, renderemu.Options{}, nil)

	t.Run("503 storm", func(t *testing.T) {
		f.emu.FailNext(100, http.StatusServiceUnavailable)
		defer f.emu.ClearFaults()
		r := f.Exec("scale", map[string]any{"service": "user-api-service", "instances": 1}, "")
		plugintest.WantKind(t, r.Err, sdk.KindRetryable, "render: find service user-api-service", "503", "gave up after 7 attempts")
		if n := strings.Count(strings.Join(r.Lines, "\n"), "retrying in"); n != 6 {
			t.Errorf("%d retry warnings, want 6", n)
		}
	})
	t.Run("short burst", func(t *testing.T) {
		f.emu.InjectFault(renderemu.Fault{Status: http.StatusTooManyRequests, Times: 1})
		f.contract.Allow(http.StatusBadGateway) // injected: a gateway's answer, not the API's
		f.emu.InjectFault(renderemu.Fault{Status: http.StatusBadGateway, Times: 1})
		f.Must("scale", map[string]any{"service": "user-api-service", "instances": 3}, "")
		if got := f.emu.Instances(f.estate.UserAPI.ID); got != 3 {
			t.Errorf("instances = %d, want 3", got)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		wrong := f.Manager(map[string]any{"api_key": "render-wrong-canary-9e2a"})
		_, err := wrong.Execute(context.Background(), Name, sdk.Request{Action: "get_service", Inputs: map[string]any{"service": "user-api-service"}}, nil)
		f.NoLeaks(err)
		plugintest.WantKind(t, err, sdk.KindUnauthenticated, "render: find service user-api-service", "401", "api_key")
	})
	t.Run("unknown", func(t *testing.T) {
		for _, tc := range []struct {
			action string
			in     map[string]any
		}{
			{"get_service", map[string]any{"service": "nope"}},
			{"scale", map[string]any{"service": "srv-nope", "instances": 1}},
			{"deploy", map[string]any{"service": "nope"}},
			{"set_env", map[string]any{"service": "nope", "key": "K", "value": "v"}},
			{"set_group_env", map[string]any{"group": "nope", "key": "K", "value": "v"}},
			{"set_group_env", map[string]any{"group": "evg-nope", "key": "K", "value": "v"}},
		} {
			r := f.Exec(tc.action, tc.in, "")
			plugintest.WantKind(t, r.Err, sdk.KindNotFound, "render: find ", "nope")
		}
	})
	t.Run("slow API", func(t *testing.T) {
		slow := f.Manager(map[string]any{"request_timeout": 30 * time.Millisecond, "retries": 1})
		f.emu.SetLatency(300 * time.Millisecond)
		defer f.emu.SetLatency(0)
		_, err := slow.Execute(context.Background(), Name, sdk.Request{Action: "get_service", Inputs: map[string]any{"service": "user-api-service"}}, nil)
		f.NoLeaks(err)
		plugintest.WantKind(t, err, sdk.KindRetryable, "render: find service user-api-service", "timed out", "gave up after 2 attempts")

		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err = f.Mgr.Execute(ctx, Name, sdk.Request{Action: "get_service", Inputs: map[string]any{"service": "user-api-service"}}, nil)
		if k := sdk.KindOf(err); k != sdk.KindDeadlineExceeded {
			t.Errorf("a call past the step's deadline: kind %s (%v), want deadline_exceeded", k, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("the call took %s after its deadline", d)
		}
	})
}

// TestPlanSaysWhatWouldHappen: a plan changes nothing; it reads (GET) only
// the services whose state it predicts.
func TestPlanSaysWhatWouldHappen(t *testing.T) {
	t.Parallel()
	f := newFixture(t, renderemu.Options{}, nil)
	before := len(f.emu.Requests())
	tests := []struct {
		action string
		in     map[string]any
		want   string
	}{
		{"scale", map[string]any{"service": "user-api-service", "instances": 3}, "would scale service user-api-service from 2 to 3 instances"},
		{"deploy", map[string]any{"service": "user-api-service", "commit_id": "abc"}, "would deploy commit abc to service user-api-service and wait until it is live"},
		{"set_env", map[string]any{"group": "production", "key": "DATABASE_URL", "value": secretValue}, "would set DATABASE_URL of environment group production (value not shown)"},
		{"restart", map[string]any{"service": "x"}, "would restart service x"},
	}
	for _, tc := range tests {
		p, err := f.Mgr.Plan(context.Background(), Name, sdk.Request{Action: tc.action, Inputs: tc.in})
		if err != nil || p.Summary != tc.want {
			t.Errorf("Plan %s = %q, %v; want %q", tc.action, p.Summary, err, tc.want)
		}
	}
	for _, r := range f.emu.Requests()[before:] {
		if r.Method != http.MethodGet {
			t.Errorf("Plan made a %s %s call, want reads only", r.Method, r.Path)
		}
	}
}

// TestPostsAreNotRepeatedBlindly: a deploy or restart POST (neither takes
// an idempotency key) that took effect but whose answer was lost (a 502 from
// a gateway, a dropped connection) is not sent again: the plugin finds the
// deploy it started, or the server_restarted event in the service's event
// log. A POST refused before it took effect is sent again. Either way the
// effect happens once.
func TestPostsAreNotRepeatedBlindly(t *testing.T) {
	t.Parallel()
	type effect func(f *fixture, serviceID string) int
	deploys := func(f *fixture, id string) int { return len(f.emu.Deploys(id)) }
	restarts := func(f *fixture, id string) int { return f.emu.Restarts(id) }
	for _, action := range []struct {
		name, suffix string
		effects      effect
	}{{"deploy", "/deploys", deploys}, {"restart", "/restart", restarts}} {
		for _, tc := range []struct {
			name        string
			status      int
			afterEffect bool
			posts       int
		}{
			{"answer lost after it took effect", http.StatusBadGateway, true, 1},
			{"refused before it took effect", http.StatusServiceUnavailable, false, 2},
			{"rate limited", http.StatusTooManyRequests, false, 2},
		} {
			t.Run(action.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, renderemu.Options{}, nil)
				api := f.estate.UserAPI
				before := action.effects(f, api.ID)
				f.contract.Allow(http.StatusBadGateway) // injected: a gateway's answer, not the API's
				f.emu.InjectFault(renderemu.Fault{Status: tc.status, Method: http.MethodPost, PathContains: action.suffix, AfterEffect: tc.afterEffect})
				out := f.Must(action.name, map[string]any{"service": api.ID}, action.name+"-api")
				if got := action.effects(f, api.ID) - before; got != 1 {
					t.Errorf("%d %ss took effect, want 1", got, action.name)
				}
				posts := 0
				for _, r := range f.emu.Requests() {
					if r.Method == http.MethodPost && strings.HasSuffix(r.Path, action.suffix) {
						posts++
					}
				}
				if posts != tc.posts {
					t.Errorf("%d %s POSTs, want %d", posts, action.name, tc.posts)
				}
				if action.name == "deploy" && out["status"] != "live" {
					t.Errorf("deploy outputs = %v, want status live", out)
				}
			})
		}
	}
}
