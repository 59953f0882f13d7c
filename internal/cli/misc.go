package cli

import (
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/schema"
	"github.com/spf13/pflag"
)

func schemaCmd() *subcommand {
	return &subcommand{
		name:    "schema",
		summary: "Print the JSON Schema of the runbook language",
		usage:   "schema",
		examples: `  runbook schema > runbook.schema.json
  # then, first line of a runbook:
  # yaml-language-server: $schema=../schema/runbook.schema.json`,
		run: func(c *Command, args []string) int {
			fs := pflag.NewFlagSet("schema", pflag.ContinueOnError)
			if done, code := c.parse(c.find("schema"), fs, args); done {
				return code
			}
			if fs.NArg() > 0 {
				return c.usageError("schema: takes no arguments")
			}
			c.Stdout.Write(schema.JSON)
			return ExitOK
		},
	}
}

func versionCmd() *subcommand {
	return &subcommand{
		name:     "version",
		summary:  "Print the version of runbook",
		usage:    "version",
		examples: "  runbook version",
		run: func(c *Command, args []string) int {
			fs := pflag.NewFlagSet("version", pflag.ContinueOnError)
			if done, code := c.parse(c.find("version"), fs, args); done {
				return code
			}
			fmt.Fprintf(c.Stdout, "runbook %s (%s%s, %s/%s)\n", version(), build(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return ExitOK
		},
	}
}

func version() string {
	if Version != "dev" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" && !pseudoVersion().MatchString(bi.Main.Version) {
		return bi.Main.Version
	}
	return Version
}

// BuildDate, set at build time with -ldflags "-X ...cli.BuildDate=...",
// is printed by version after the commit: Go itself records when the
// commit was made, not when the binary was built.
var BuildDate = ""

// build names the commit the binary was built from and when it was made
// ("commit 1a2b3c4d5e6f of 2026-12-03 03:34 UTC, "), "modified" when the
// tree had uncommitted changes, or "" when Go recorded no version control
// facts (GOFLAGS=-buildvcs=false, or a source tree without git).
func build() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = " modified"
			}
		}
	}
	if rev == "" {
		return ""
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	out := "commit " + rev + dirty
	if t, err := time.Parse(time.RFC3339, at); err == nil {
		out += " of " + t.UTC().Format("2006-01-02 15:04 UTC")
	}
	if BuildDate != "" {
		out += ", built " + BuildDate
	}
	return out + ", "
}

// pseudoVersion matches the versions Go makes up for untagged commits
// (v0.0.0-20261203033412-3db1a32bdded): build names the commit instead.
var pseudoVersion = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`-(0\.)?\d{14}-[0-9a-f]{12}`) })
