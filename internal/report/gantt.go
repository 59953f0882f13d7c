package report

import (
	"fmt"
	"math"
	"time"
)

// axis is the time span a Gantt chart draws: the run, stretched to show the
// RTO line when the RTO is near enough to be drawn without squashing the bars.
type axis struct {
	span time.Duration
	// rtoShown is set when the RTO line falls on the chart.
	rtoShown bool
}

// rtoStretch is how far past the run's end the axis may reach to show the RTO.
const rtoStretch = 3

func (r *Run) axis() axis {
	span := r.Duration
	for _, s := range r.Steps {
		span = max(span, s.Start+s.Duration)
	}
	if span <= 0 {
		span = time.Millisecond
	}
	a := axis{span: span}
	if r.RTO > 0 && r.RTO <= rtoStretch*span {
		a.span, a.rtoShown = max(span, r.RTO), true
	}
	return a
}

// frac is d's place on the axis, from 0 to 1.
func (a axis) frac(d time.Duration) float64 {
	return math.Min(1, math.Max(0, float64(d)/float64(a.span)))
}

// ticks returns about n round tick positions on the axis.
func (a axis) ticks(n int) []time.Duration {
	steps := []time.Duration{time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond,
		20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 12 * time.Hour, 24 * time.Hour}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if a.span/s <= time.Duration(n) {
			step = s
			break
		}
	}
	var out []time.Duration
	for t := time.Duration(0); t <= a.span; t += step {
		out = append(out, t)
	}
	return out
}

// rtoNote explains an RTO line that is not drawn, or "".
func (r *Run) rtoNote(a axis) string {
	switch {
	case r.RTO <= 0:
		return "no RTO set"
	case a.rtoShown:
		return ""
	}
	return fmt.Sprintf("the RTO line (%s) is off the chart: the run used %d%% of it", Dur(r.RTO), r.RTOUsed())
}
