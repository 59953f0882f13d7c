// Command runbook lints, rehearses and runs disaster-recovery runbooks.
package main

import (
	"os"

	"github.com/alpha-orion/runbook/internal/cli"
)

func main() {
	os.Exit(cli.New().Main(os.Args[1:]))
}
