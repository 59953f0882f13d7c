// Command benchcorpus writes the benchmark corpus: runbooks of a fixed shape.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/alpha-orion/runbook/internal/benchcorpus"
)

func main() {
	out := flag.String("out", "bench-corpus", "folder to write to")
	n := flag.Int("n", 200, "number of runbooks")
	steps := flag.Int("steps", 50, "steps per runbook")
	flag.Parse()
	if _, err := benchcorpus.Write(*out, *n, *steps); err != nil {
		fmt.Fprintln(os.Stderr, "benchcorpus:", err)
		os.Exit(1)
	}
}
