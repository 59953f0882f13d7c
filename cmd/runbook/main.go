// Command runbook lints, rehearses and runs disaster-recovery runbooks.
package main

import (
	"fmt"
	"os"

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
	os.Exit(cli.New().Main(os.Args[1:]))
}
