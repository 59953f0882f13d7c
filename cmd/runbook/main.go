// Command runbook lints, rehearses and runs disaster-recovery runbooks.
// It is the core: providers are separate executables
// (cmd/runbook-plugin-NAME), and so are the drill's stand-ins
// (cmd/runbook-sandbox); `go build -o bin/ ./cmd/...` builds them all.
package main

import (
	"os"

	"github.com/alpha-orion/runbook/internal/cli"
)

func main() { os.Exit(cli.New().Main(os.Args[1:])) }
