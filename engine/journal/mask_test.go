package journal

import (
	"context"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/redact"
)

// TestMaskKeepsStructure journals events under secrets that look like the
// journal's own keys, values and timestamps, in both stores, and reads
// them back whole.
func TestMaskKeepsStructure(t *testing.T) {
	for _, store := range []string{"folder", "postgres"} {
		t.Run(store, func(t *testing.T) {
			var st Store = Folder(t.TempDir())
			if store == "postgres" {
				st, _ = openPG(t)
			}
			maskKeepsStructure(t, st)
		})
	}
}

func maskKeepsStructure(t *testing.T, st Store) {
	ctx := context.Background()
	secrets := []string{"2026", "true", "007", "seq", "time", "step_started", "{", `"`, "1"}
	w, err := st.Create(ctx, "run1", redact.New(secrets...))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 3, 7, 0, 7, 0, time.UTC)
	in := []Event{
		{Time: at, Type: RunStarted, Run: "run1", Params: map[string]any{"year": "2026", "n": 2026, "ok": true}},
		{Time: at, Type: StepStarted, Step: "seq", Attempt: 1, Inputs: map[string]any{"seq": "seq", "pin": "007"}},
		{Time: at, Type: StepSucceeded, Step: "seq", Outputs: map[string]any{"flag": "true", "b": true}, Message: "step_started ok"},
	}
	for _, e := range in {
		if _, err := w.Write(e, true); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	got, err := st.Read(ctx, "run1")
	if err != nil {
		t.Fatalf("journal unreadable after masking: %v", err)
	}
	if len(got) != len(in) {
		t.Fatalf("read %d events, want %d", len(got), len(in))
	}
	for i, e := range got {
		if e.Seq != i+1 || !e.Time.Equal(at) || e.Type != in[i].Type || e.Step != in[i].Step {
			t.Errorf("event %d: structure changed: %+v", i, e)
		}
	}
	for _, tc := range []struct {
		name string
		got  any
		want any
	}{
		{"param equal to a short secret", got[0].Params["year"], redact.Mask},
		{"number param kept", got[0].Params["n"], float64(2026)},
		{"bool param kept", got[0].Params["ok"], true},
		{"input equal to a short secret", got[1].Inputs["pin"], redact.Mask},
		{"output equal to a short secret", got[2].Outputs["flag"], redact.Mask},
		{"long secret in a message", got[2].Message, "*** ok"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
}
