// Package sandbox is the protocol between `runbook drill` and the
// runbook-sandbox executable, which holds the drill's stand-ins (provider
// emulators, fake GCS, a simulated chain, DNS, the stand-in application,
// PostgreSQL and Redis servers). Keeping them in their own process keeps
// them, and everything they link, out of the core and the plugins.
//
// The core starts `runbook-sandbox serve` and talks to it in JSON lines:
// one Request on the sandbox's stdin, one Response on its stdout. A drill
// is a stage request (the sandbox starts the stand-ins and stages the
// incident), the run, which the core does as for any runbook, then a verify
// request (the sandbox checks the end state the way a user would) and a
// close request (the stand-ins stop). One sandbox serves drills one after
// another, so what is slow to set up (initdb) is done once. When its stdin
// closes, the sandbox stops everything and exits.
//
// A game-day drill (--chaos SEED) sends its fault plan with the stage
// request; the sandbox arms its stand-ins with it once the incident is
// staged, so the faults hit the run and never the staging.
//
// This package links nothing but the standard library and internal/chaos.
package sandbox

import (
	"time"

	"github.com/alpha-orion/runbook/internal/chaos"
)

// ExecutableName is the sandbox's file name, found like a provider's.
const ExecutableName = "runbook-sandbox"

// Stage is what the sandbox prepared for a drill: the run's inputs and
// what to report.
type Stage struct {
	// Params are passed as --param NAME=VALUE.
	Params map[string]string `json:"params,omitempty"`
	// Secrets are the runbook's secrets (the stand-ins' credentials).
	Secrets map[string]string `json:"secrets,omitempty"`
	// Overrides replace plugin settings to point plugins at the stand-ins.
	Overrides map[string]map[string]any `json:"overrides,omitempty"`
	// Env is set in the run's environment, which plugins inherit (for
	// settings that name a variable, such as a signer's key file).
	Env map[string]string `json:"env,omitempty"`
	// Incident is when the staged incident happened; RestorePoint is the
	// moment the runbook restores to (zero when it restores nothing).
	Incident     time.Time `json:"incident,omitzero"`
	RestorePoint time.Time `json:"restore_point,omitzero"`
	// StateDir is the folder the run's journal goes in, which the
	// sandbox's checks may read (a secret must never reach it).
	StateDir string `json:"state_dir"`
	// Notes describe what was staged, for the report.
	Notes []string `json:"notes,omitempty"`
}

// Check is one assertion about the end state.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Safe marks a check of a safe failure: what must hold when the run
	// failed (nothing left half-done), instead of the end state.
	Safe bool `json:"safe,omitempty"`
}

// Drill describes one runbook the sandbox can drill.
type Drill struct {
	// Runbook is the metadata.name of the runbook.
	Runbook string `json:"runbook"`
	// Needs names the local programs the drill needs.
	Needs []string `json:"needs,omitempty"`
}

// Ops of a Request.
const (
	OpList   = "list"   // the drills the sandbox has
	OpStage  = "stage"  // start the stand-ins for Runbook and stage its incident
	OpVerify = "verify" // check the end state of the staged drill
	OpClose  = "close"  // stop the staged drill's stand-ins
	OpQueue  = "queue"  // the drills to come, in order: the sandbox stages each ahead of its turn
)

// Request is one line the core sends.
type Request struct {
	Op       string   `json:"op"`
	Runbook  string   `json:"runbook,omitempty"`
	Runbooks []string `json:"runbooks,omitempty"` // for OpQueue
	// Chaos, with OpStage, is the fault plan the stand-ins apply during
	// the run (runbook drill --chaos).
	Chaos *chaos.Plan `json:"chaos,omitempty"`
}

// Response is the sandbox's answer to one Request.
type Response struct {
	// Error, when set, is why the request failed; Missing is set too when
	// the cause is a local program that is not installed.
	Error   string  `json:"error,omitempty"`
	Missing string  `json:"missing,omitempty"`
	Drills  []Drill `json:"drills,omitempty"`
	Stage   *Stage  `json:"stage,omitempty"`
	Checks  []Check `json:"checks,omitempty"`
	// Faults, with a chaos drill's verify, says which planned faults hit
	// the run, one line each.
	Faults []string `json:"faults,omitempty"`
}
