package report

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/engine/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// runCases are journals in testdata/ with the runbook each ran.
var runCases = []struct{ journal, runbook string }{
	{"failed", "testdata/pitr.yaml"},
	{"gated", "../../examples/gated-maintenance.yaml"},
}

func readCase(t *testing.T, name, file string) *Run {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	events, err := journal.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	rb, _, err := load.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(events, rb)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run 'go test ./internal/report -update' to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n%s", path, firstDiff(string(want), string(got)))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\nwant: " + a + "\ngot:  " + b
		}
	}
	return ""
}

func TestReportGolden(t *testing.T) {
	for _, tc := range runCases {
		t.Run(tc.journal, func(t *testing.T) {
			r := readCase(t, tc.journal, tc.runbook)
			for _, f := range []struct {
				ext   string
				write func(io.Writer, *Run) error
			}{{"md", Markdown}, {"html", HTML}, {"txt", WriteText}} {
				var b bytes.Buffer
				if err := f.write(&b, r); err != nil {
					t.Fatal(err)
				}
				golden(t, tc.journal+"."+f.ext, b.Bytes())
			}
		})
	}
}

func TestFailedRunFacts(t *testing.T) {
	r := readCase(t, "failed", "testdata/pitr.yaml")
	if got, want := r.Status, "failed"; got != want {
		t.Errorf("status = %q, want %q", got, want)
	}
	if got, want := r.RTOUsed(), 104; got != want {
		t.Errorf("RTO used = %d%%, want %d%%", got, want)
	}
	if r.Restore == nil || r.Restore.Source != "output restore_point of step restore" || r.Restore.Loss != 25*time.Minute || !r.Restore.Within {
		t.Errorf("restore point = %+v, want 25m before the start from step restore, within the RPO", r.Restore)
	}
	if got, want := len(r.Approvals), 2; got != want {
		t.Errorf("%d approvals, want %d", got, want)
	}
	if got, want := len(r.Problems), 2; got != want {
		t.Errorf("%d problems, want %d: %+v", got, want, r.Problems)
	}
	s, _ := r.Step("restore")
	if s.Attempts != 2 || s.Start != 9300*time.Millisecond || s.Duration != 52200*time.Millisecond {
		t.Errorf("restore = %+v, want 2 attempts from +9.3s for 52.2s", s)
	}
	if s, _ := r.Step("stop-api"); !s.Undone {
		t.Errorf("stop-api not marked undone")
	}
	if a := r.axis(); !a.rtoShown {
		t.Errorf("the RTO line is not on the chart")
	}
}

func TestRestorePointFromParamAndRPO(t *testing.T) {
	start := time.Date(2024, 5, 20, 10, 0, 0, 0, time.UTC)
	events := []journal.Event{
		{Seq: 1, Time: start, Type: journal.RunStarted, Run: "r", Runbook: "pitr", Params: map[string]any{"restore_to": "2024-05-20T08:00:00Z"}},
		{Seq: 2, Time: start.Add(time.Second), Type: journal.RunFinished, Status: "succeeded"},
	}
	rb, _, err := load.ReadFile("testdata/pitr.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(events, rb)
	if err != nil {
		t.Fatal(err)
	}
	if r.Restore == nil || r.Restore.Source != "param restore_to" || r.Restore.Within {
		t.Fatalf("restore = %+v, want from the param, outside the 1h RPO", r.Restore)
	}
	if !strings.Contains(r.RestoreText(), "OUTSIDE the RPO of 1h") || !strings.Contains(r.RPONote, "changed since the run") {
		t.Errorf("restore text %q, RPO note %q", r.RestoreText(), r.RPONote)
	}
	if r.RTOUsed() != -1 {
		t.Errorf("RTO used without an RTO = %d, want -1", r.RTOUsed())
	}
}

func TestReportsEscapeJournaledText(t *testing.T) {
	r := readCase(t, "failed", "testdata/pitr.yaml")
	var h, m bytes.Buffer
	if err := HTML(&h, r); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&m, r); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"html": h.String(), "md": m.String()} {
		if strings.Contains(out, "<script>") || !strings.Contains(out, "&lt;script&gt;") {
			t.Errorf("%s: the error's <script> is not escaped", name)
		}
		masked := map[string]string{"html": "***", "md": `\*\*\*`}[name] // Markdown escapes the stars
		if !strings.Contains(out, masked) || strings.Contains(out, "postgres://") {
			t.Errorf("%s: secrets not shown masked", name)
		}
	}
	for _, bad := range []string{"http://", "https://", "<link", "<script", "@import"} {
		if strings.Contains(h.String(), bad) && bad != "http://" {
			t.Errorf("html report refers to an external asset: %s", bad)
		}
	}
	if strings.Count(h.String(), "http://") != strings.Count(h.String(), `xmlns="http://www.w3.org/2000/svg"`) {
		t.Errorf("html report has a URL other than the SVG namespace")
	}
}

func TestGraphGolden(t *testing.T) {
	for _, file := range []string{"testdata/pitr.yaml", "../../examples/gated-maintenance.yaml", "../../runbooks/neon-pitr.yaml"} {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			rb, _, err := load.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			g, diags := plan.Build(rb)
			if len(diags) > 0 {
				t.Fatalf("plan: %v", diags)
			}
			var m, d bytes.Buffer
			if err := Mermaid(&m, rb, g); err != nil {
				t.Fatal(err)
			}
			if err := DOT(&d, rb, g); err != nil {
				t.Fatal(err)
			}
			golden(t, "graph/"+name+".mmd", m.Bytes())
			golden(t, "graph/"+name+".dot", d.Bytes())
		})
	}
}
