package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/internal/words"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlTemplate is parsed on first use, not when every command starts.
var htmlTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"dur": Dur, "utc": utc, "text": text, "keys": sortedKeys, "oneline": oneLine, "plural": func(n int, noun string) string { return words.Plural(n, noun) },
	}).Parse(htmlSource))
})

// Chart geometry, in SVG user units.
const (
	svgWidth   = 1100.0
	labelWidth = 190.0
	chartLeft  = labelWidth + 20
	chartRight = svgWidth - 90
	rowHeight  = 28.0
	chartTop   = 34.0
)

// htmlData is what the HTML template draws.
type htmlData struct {
	*Run
	RTOText     string
	RestoreText string
	RTOPercent  int
	RTOMeter    float64 // the meter's fill, 0..100
	Gantt       gantt
	Outputs     []stepOutputs
}

type stepOutputs struct {
	Step    string
	Outputs []Output
	Secret  []string
}

// gantt is the SVG chart: one bar per started step, ticks, and the RTO line.
type gantt struct {
	Width, Height float64
	Left, Right   float64
	Bottom        float64
	Rows          []ganttRow
	Ticks         []ganttTick
	RTO           *ganttTick
	Marks         []ganttMark
	Note          string
}

type ganttRow struct {
	Waits     []ganttWait
	Y, TextY  float64
	BarY      float64
	X, W      float64
	Label     string
	Phase     string
	Status    string
	Class     string
	Duration  string
	DurX      float64
	Zebra     bool
	Attempts  int
	StartText string
}

// ganttWait is a span a step waited for a person, drawn before its bar.
type ganttWait struct {
	X, W  float64
	Title string
}

type ganttTick struct {
	X     float64
	Label string
}

type ganttMark struct {
	X, Y  float64
	Title string
}

// HTML writes the incident report as one self-contained HTML page (inline
// CSS and SVG, no scripts, no external assets).
func HTML(w io.Writer, r *Run) error {
	d := htmlData{Run: r, RTOText: rtoText(r), RestoreText: restoreCell(r), RTOPercent: r.RTOUsed(), Gantt: r.gantt()}
	d.RTOMeter = float64(max(0, min(100, d.RTOPercent)))
	for _, s := range r.Steps {
		if len(s.Outputs) > 0 || len(s.Secret) > 0 {
			d.Outputs = append(d.Outputs, stepOutputs{Step: s.ID, Outputs: s.Outputs, Secret: s.Secret})
		}
	}
	return htmlTemplate().Execute(w, d)
}

func (r *Run) gantt() gantt {
	a := r.axis()
	g := gantt{Width: svgWidth, Left: chartLeft, Right: chartRight}
	x := func(d time.Duration) float64 { return chartLeft + a.frac(d)*(chartRight-chartLeft) }
	row := map[string]float64{}
	for _, s := range r.Steps {
		if !s.started && len(s.Waits) == 0 {
			continue
		}
		y := chartTop + float64(len(g.Rows))*rowHeight
		row[s.ID] = y
		x0, x1 := x(s.Start), x(s.Start+s.Duration)
		gr := ganttRow{Y: y, BarY: y + 6, TextY: y + rowHeight/2 + 4, X: x0, W: max(2, x1-x0), Label: s.ID, Status: s.Status,
			Class: statusClass(s.Status), Duration: Dur(s.Duration), Zebra: len(g.Rows)%2 == 1, Attempts: s.Attempts,
			StartText: "+" + Dur(s.Start)}
		for _, w := range s.Waits {
			wx0, wx1 := x(w.Start), x(w.Start+w.Duration)
			title := fmt.Sprintf("%s waited %s for %s", s.ID, Dur(w.Duration), w.Kind)
			if w.Open {
				title += " (still waiting)"
			}
			gr.Waits = append(gr.Waits, ganttWait{X: wx0, W: max(2, wx1-wx0), Title: title})
		}
		if !s.started {
			last := s.Waits[len(s.Waits)-1]
			gr.W, gr.Duration, gr.X = 0, "waiting", x(last.Start+last.Duration)
		}
		if s.Phase != "steps" {
			gr.Phase = s.Phase
		}
		if s.Open {
			gr.Duration += " (no end)"
		}
		gr.DurX = gr.X + gr.W + 6
		g.Rows = append(g.Rows, gr)
	}
	g.Bottom = chartTop + float64(len(g.Rows))*rowHeight
	g.Height = g.Bottom + 30
	for _, t := range a.ticks(8) {
		g.Ticks = append(g.Ticks, ganttTick{X: x(t), Label: Dur(t)})
	}
	if a.rtoShown {
		g.RTO = &ganttTick{X: x(r.RTO), Label: "RTO " + Dur(r.RTO)}
	}
	for _, ap := range r.Approvals {
		if y, ok := row[ap.Step]; ok {
			g.Marks = append(g.Marks, ganttMark{X: x(ap.Offset), Y: y + rowHeight/2,
				Title: fmt.Sprintf("%s of %s approved by %s at %s", ap.Kind, ap.Step, ap.By, utc(ap.At))})
		}
	}
	g.Note = r.rtoNote(a)
	return g
}

func statusClass(status string) string {
	switch status {
	case "succeeded", "failed", "skipped", "running", "paused", "cancelled":
		return status
	}
	return "other"
}
