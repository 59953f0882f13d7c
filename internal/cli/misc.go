package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

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
			fmt.Fprintf(c.Stdout, "runbook %s (%s, %s/%s)\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return ExitOK
		},
	}
}

func version() string {
	if Version != "dev" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return Version
}
