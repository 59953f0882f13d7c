// Command benchcorpus writes the benchmark corpus: runbooks of a fixed shape,
// or with -actions GitHub Actions workflows of the same shape for actionlint.
// With -parse it instead parses every runbook of a folder with yaml.v3 and
// nothing else, the floor scripts/bench.sh compares validate against.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/alpha-orion/runbook/internal/benchcorpus"
)

func main() {
	out := flag.String("out", "bench-corpus", "folder to write to")
	n := flag.Int("n", 200, "number of runbooks")
	steps := flag.Int("steps", 50, "steps per runbook")
	long := flag.Int("long", 0, "write one runbook of this many chained log steps instead (long.yaml), for the memory of a long run")
	actions := flag.Bool("actions", false, "write GitHub Actions workflows of the same shape instead, for actionlint")
	parse := flag.String("parse", "", "parse the .yaml files of this folder with yaml.v3 instead, as validate reads them")
	flag.Parse()
	if *parse != "" {
		files, err := benchcorpus.ParseYAML(*parse)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchcorpus:", err)
			os.Exit(1)
		}
		fmt.Printf("parsed %d files\n", files)
		return
	}
	if *long > 0 {
		err := os.MkdirAll(*out, 0o755)
		if err == nil {
			err = os.WriteFile(filepath.Join(*out, "long.yaml"), benchcorpus.Long(*long), 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchcorpus:", err)
			os.Exit(1)
		}
		return
	}
	if *actions {
		if err := benchcorpus.WriteWorkflows(*out, *n, *steps); err != nil {
			fmt.Fprintln(os.Stderr, "benchcorpus:", err)
			os.Exit(1)
		}
		return
	}
	if _, err := benchcorpus.Write(*out, *n, *steps); err != nil {
		fmt.Fprintln(os.Stderr, "benchcorpus:", err)
		os.Exit(1)
	}
}
