// Package drill rehearses runbooks on one machine: it starts local stand-ins
// for every provider a runbook uses (emulators of the Neon and Render APIs, a
// throwaway PostgreSQL, fake GCS, a simulated chain, a DNS server, Redis, a
// Terraform fixture and a fake Alpha-Orion application), stages the incident
// the runbook answers, and afterwards checks the end state, so a drill proves
// the runbook recovers the system rather than merely exercising code paths.
package drill

import (
	"context"
	"fmt"
	"sort"

	"github.com/alpha-orion/runbook/internal/sandbox"
)

// Stage is what a scenario prepared: the run's inputs and what to report.
type Stage = sandbox.Stage

// Check is one assertion about the end state.
type Check = sandbox.Check

// Scenario rehearses one runbook.
type Scenario struct {
	// Runbook is the metadata.name of the runbook it drills.
	Runbook string
	// Needs names the local programs the scenario needs, for a clear error up front.
	Needs []string
	// Setup starts the stand-ins and stages the incident.
	Setup func(ctx context.Context, w *World) (*Stage, error)
	// Verify checks the end state after the run.
	Verify func(ctx context.Context, w *World, st *Stage) []Check
}

var scenarios = map[string]*Scenario{}

func register(s *Scenario) { scenarios[s.Runbook] = s }

// Lookup returns the scenario of a runbook.
func Lookup(name string) (*Scenario, bool) {
	s, ok := scenarios[name]
	return s, ok
}

// Names returns the runbooks that have a drill, sorted.
func Names() []string {
	out := make([]string, 0, len(scenarios))
	for n := range scenarios {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// check builds a Check from a condition.
func check(name string, ok bool, format string, args ...any) Check {
	return Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)}
}
