package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/internal/chaos"
)

// recorder is a Handler that records the calls the protocol makes.
type recorder struct {
	calls  []string
	closed int
}

func (r *recorder) Drills() []Drill { return []Drill{{Runbook: "a", Needs: []string{"postgres"}}} }

func (r *recorder) Stage(_ context.Context, runbook string) (*Stage, error) {
	r.calls = append(r.calls, "stage "+runbook)
	switch runbook {
	case "missing":
		return nil, &MissingError{Program: "terraform", Reason: "terraform is not installed"}
	case "broken":
		return nil, errors.New("staging failed: boom")
	}
	return &Stage{Params: map[string]string{"p": "1"}, StateDir: "/state"}, nil
}

func (r *recorder) Verify(context.Context) ([]Check, error) {
	r.calls = append(r.calls, "verify")
	return []Check{{Name: "c", OK: true, Detail: "d"}}, nil
}

func (r *recorder) CloseDrill() error { r.closed++; return nil }

func (r *recorder) Queue(runbooks []string) {
	r.calls = append(r.calls, "queue "+strings.Join(runbooks, ","))
}

// TestServeAnswersEachRequest drives Serve with one request a line and
// reads one answer a line; the input's end closes the staged drill.
func TestServeAnswersEachRequest(t *testing.T) {
	in := strings.Join([]string{
		`{"op":"list"}`,
		`{"op":"queue","runbooks":["a","b"]}`,
		`{"op":"stage","runbook":"a"}`,
		`{"op":"verify"}`,
		`{"op":"stage","runbook":"missing"}`,
		`{"op":"stage","runbook":"broken"}`,
		`{"op":"dance"}`,
		`not json`,
		`{"op":"close"}`,
	}, "\n") + "\n"
	var out bytes.Buffer
	h := &recorder{}
	if err := Serve(context.Background(), strings.NewReader(in), &out, h); err != nil {
		t.Fatal(err)
	}
	var got []Response
	dec := json.NewDecoder(&out)
	for dec.More() {
		var r Response
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 9 {
		t.Fatalf("%d answers to 9 requests: %+v", len(got), got)
	}
	tests := []struct {
		i    int
		ok   func(Response) bool
		what string
	}{
		{0, func(r Response) bool { return len(r.Drills) == 1 && r.Drills[0].Runbook == "a" }, "list"},
		{1, func(r Response) bool { return r.Error == "" }, "queue"},
		{2, func(r Response) bool { return r.Stage != nil && r.Stage.StateDir == "/state" }, "stage"},
		{3, func(r Response) bool { return len(r.Checks) == 1 && r.Checks[0].OK }, "verify"},
		{4, func(r Response) bool { return r.Missing == "terraform" && strings.Contains(r.Error, "not installed") }, "missing program"},
		{5, func(r Response) bool { return r.Missing == "" && r.Error == "staging failed: boom" }, "staging error"},
		{6, func(r Response) bool { return strings.Contains(r.Error, `unknown op "dance"`) }, "unknown op"},
		{7, func(r Response) bool { return strings.HasPrefix(r.Error, "bad request") }, "bad request"},
		{8, func(r Response) bool { return r.Error == "" }, "close"},
	}
	for _, tt := range tests {
		if !tt.ok(got[tt.i]) {
			t.Errorf("%s: %+v", tt.what, got[tt.i])
		}
	}
	if want := "queue a,b|stage a|verify|stage missing|stage broken"; strings.Join(h.calls, "|") != want {
		t.Errorf("calls %q, want %q", strings.Join(h.calls, "|"), want)
	}
	if h.closed != 2 {
		t.Errorf("CloseDrill called %d times, want 2 (the close request, then the end of input)", h.closed)
	}
}

// chaosRecorder is a recorder whose stand-ins take a fault plan.
type chaosRecorder struct {
	recorder
	plans []*chaos.Plan
}

func (r *chaosRecorder) ChaosReport() []string {
	if len(r.plans) == 0 {
		return nil
	}
	return r.plans[len(r.plans)-1].Lines()
}

func (r *chaosRecorder) StageChaos(ctx context.Context, runbook string, plan *chaos.Plan) (*Stage, error) {
	r.plans = append(r.plans, plan)
	return r.Stage(ctx, runbook)
}

// TestServeSendsTheFaultPlan: a stage request's plan reaches the handler
// unchanged; a stage without one stages as before; a handler that cannot
// inject faults refuses a plan instead of ignoring it.
func TestServeSendsTheFaultPlan(t *testing.T) {
	plan := chaos.New(7, "a", []string{"neon.restore_branch", "contract.call"})
	line, err := json.Marshal(Request{Op: OpStage, Runbook: "a", Chaos: &plan})
	if err != nil {
		t.Fatal(err)
	}
	in := string(line) + "\n" + `{"op":"verify"}` + "\n" + `{"op":"stage","runbook":"a"}` + "\n"
	tests := []struct {
		name   string
		h      Handler
		errors []string // per answer: "" for none, else a part of the error
		faults int      // fault lines in the verify answer
	}{
		{"chaos handler", &chaosRecorder{}, []string{"", "", ""}, len(plan.Faults)},
		{"plain handler", &recorder{}, []string{"cannot inject faults", "", ""}, 0},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if err := Serve(context.Background(), strings.NewReader(in), &out, tt.h); err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(&out)
		for i, want := range tt.errors {
			var r Response
			if err := dec.Decode(&r); err != nil {
				t.Fatalf("%s: answer %d: %v", tt.name, i, err)
			}
			if (want == "") != (r.Error == "") || !strings.Contains(r.Error, want) {
				t.Errorf("%s: answer %d: error %q, want %q", tt.name, i, r.Error, want)
			}
			if i == 1 && len(r.Faults) != tt.faults {
				t.Errorf("%s: verify reports %d faults, want %d: %q", tt.name, len(r.Faults), tt.faults, r.Faults)
			}
		}
	}
	cr := tests[0].h.(*chaosRecorder)
	if len(cr.plans) != 1 || !reflect.DeepEqual(*cr.plans[0], plan) {
		t.Errorf("plans received %+v, want [%+v]", cr.plans, plan)
	}
	if got := strings.Join(cr.calls, "|"); got != "stage a|verify|stage a" {
		t.Errorf("calls %q", got)
	}
}
