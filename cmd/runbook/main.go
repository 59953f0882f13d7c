// Command runbook lints, rehearses and runs disaster-recovery runbooks.
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/alpha-orion/runbook/internal/cli"
	"github.com/alpha-orion/runbook/plugins/builtin"
	"github.com/alpha-orion/runbook/plugins/host"
)

func main() {
	// The binary serves its own built-in plugins when the engine re-executes it.
	if served, err := host.ServeIfPlugin(os.Args[1:], builtin.Factories()); served {
		if err != nil {
			fmt.Fprintln(os.Stderr, "runbook:", err)
			os.Exit(2)
		}
		return
	}
	// Commands are short-lived and validate makes much garbage:
	// collecting at 4x the live heap instead of 2x takes a third off
	// validate's CPU time on the benchmark corpus (scripts/bench.sh).
	// GOGC, when set, still decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	os.Exit(cli.New().Main(os.Args[1:]))
}
