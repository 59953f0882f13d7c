// Command schemagen writes engine/schemacheck's compiled schema table:
//
//	go run ./internal/schemagen/cmd -in ../../schema/runbook.schema.json -out schema_gen.go
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/alpha-orion/runbook/engine/schemacheck/internal/schemagen"
)

func main() {
	in := flag.String("in", "", "the JSON Schema")
	out := flag.String("out", "", "the Go file to write")
	pkg := flag.String("pkg", "schemacheck", "the package of the Go file")
	origin := flag.String("origin", "schema/runbook.schema.json", "the schema's path, named in the file's header")
	flag.Parse()
	src, err := os.ReadFile(*in)
	if err == nil {
		src, err = schemagen.Generate(src, *pkg, *origin)
	}
	if err == nil {
		err = os.WriteFile(*out, src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}
