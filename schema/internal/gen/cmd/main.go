// Command gen writes schema/runbook.schema.json from schema/base.schema.json
// and the shipped action catalogue; run it with go generate ./schema.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/alpha-orion/runbook/plugins/providers"
	"github.com/alpha-orion/runbook/schema/internal/gen"
)

func main() {
	base := flag.String("base", "base.schema.json", "the hand-written schema")
	out := flag.String("out", "runbook.schema.json", "the schema to write")
	flag.Parse()
	src, err := os.ReadFile(*base)
	if err == nil {
		src, err = gen.Generate(src, providers.Specs())
	}
	if err == nil {
		err = os.WriteFile(*out, src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
