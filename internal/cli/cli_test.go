package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	c := &Command{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code := c.Main(args)
	return result{code, out.String(), errb.String()}
}

func TestExitCodesAndOutput(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		stdout   []string
		stderr   []string
		noStdout bool
	}{
		{name: "no args", args: nil, code: ExitUsage, stderr: []string{"Commands:", "validate"}},
		{name: "help", args: []string{"help"}, code: ExitOK, stdout: []string{"validate", "list", "schema", "Exit codes:", "3  the run is paused"}},
		{name: "unknown command", args: []string{"valdate"}, code: ExitUsage, stderr: []string{`unknown command "valdate"; did you mean "validate"?`}},
		{name: "unknown flag", args: []string{"validate", "--strct"}, code: ExitUsage, stderr: []string{`unknown flag: --strct; did you mean "--strict"?`}},
		{name: "actions one", args: []string{"actions", "redis.get"}, code: ExitOK, stdout: []string{"redis.get (idempotent)", "key  string  required"}},
		{name: "actions markdown", args: []string{"actions", "--format", "markdown", "wait"}, code: ExitOK, stdout: []string{"### wait", "uses: wait"}},
		{name: "actions unknown", args: []string{"actions", "redis.gt"}, code: ExitUsage, stderr: []string{`did you mean "redis.get"?`}},
		{name: "actions bad format", args: []string{"actions", "--format", "xml"}, code: ExitUsage, stderr: []string{`unknown --format "xml"`}},
		{name: "version", args: []string{"version"}, code: ExitOK, stdout: []string{"runbook "}},
		{name: "examples clean", args: []string{"validate", "../../examples"}, code: ExitOK, noStdout: true},
		{name: "findings", args: []string{"validate", "testdata/bad.yaml"}, code: ExitFailed, stdout: []string{
			`testdata/bad.yaml:6:11: error: unknown action "lgo": use a built-in (log, wait, assert, manual, approval) or PLUGIN.ACTION; did you mean "log"? [unknown-action]`,
			`testdata/bad.yaml:10:27: error: param "missing" is not declared under params [undeclared-param]`,
		}, stderr: []string{"2 errors, 0 warnings in 1 file"}},
		{name: "warning passes", args: []string{"validate", "testdata/warn.yaml"}, code: ExitOK, stdout: []string{"[file-name]"}},
		{name: "strict fails on warning", args: []string{"validate", "--strict", "testdata/warn.yaml"}, code: ExitFailed, stdout: []string{"[file-name]"}},
		{name: "missing file", args: []string{"validate", "testdata/nope.yaml"}, code: ExitUsage, stderr: []string{"nope.yaml"}},
		{name: "bad flag", args: []string{"validate", "--colour"}, code: ExitUsage, stderr: []string{"unknown flag: --colour"}},
		{name: "bad format", args: []string{"validate", "--format", "xml", "testdata/bad.yaml"}, code: ExitUsage, stderr: []string{`unknown --format "xml"`}},
		{name: "github format", args: []string{"validate", "--format", "github", "testdata/bad.yaml"}, code: ExitFailed, stdout: []string{"::error file=testdata/bad.yaml,line=6,col=11,title=runbook unknown-action::unknown action"}},
		{name: "sarif root flag", args: []string{"validate", "--format", "sarif", "--sarif-root", "..", "testdata/bad.yaml"}, code: ExitFailed, stdout: []string{
			`"uri": "cli/testdata/bad.yaml"`, `"uriBaseId": "%SRCROOT%"`, `"helpUri": "https://github.com/alpha-orion/runbook/blob/main/docs/rules.md#unknown-action"`, `"fullDescription"`}},
		{name: "sarif root of the repository", args: []string{"validate", "--format", "sarif", "testdata/bad.yaml"}, code: ExitFailed, stdout: []string{`"uri": "internal/cli/testdata/bad.yaml"`}},
		{name: "completion", args: []string{"completion", "bash"}, code: ExitOK, stdout: []string{"complete -F _runbook runbook"}},
		{name: "completion unknown shell", args: []string{"completion", "tcsh"}, code: ExitUsage, stderr: []string{"bash, zsh or fish"}},
		{name: "list", args: []string{"list", "../../examples"}, code: ExitOK, stdout: []string{"NAME", "hello", "gated-maintenance"}},
		{name: "list missing dir", args: []string{"list", "nowhere"}, code: ExitUsage, stderr: []string{"nowhere"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
				}
			}
			for _, s := range tc.stderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			if tc.noStdout && r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
}

func TestEverySubcommandHasHelpWithExamples(t *testing.T) {
	c := &Command{}
	for _, s := range c.subcommands() {
		for _, args := range [][]string{{s.name, "--help"}, {"help", s.name}} {
			r := runCLI(t, args...)
			if r.code != ExitOK || !strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "Usage:") {
				t.Errorf("%v: code %d, output:\n%s", args, r.code, r.stdout)
			}
		}
	}
}

func TestJSONAndSARIF(t *testing.T) {
	r := runCLI(t, "validate", "--format", "json", "testdata/bad.yaml")
	var diags []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &diags); err != nil || len(diags) != 2 {
		t.Fatalf("json output (%v): %s", err, r.stdout)
	}
	if diags[0]["rule"] != "unknown-action" || diags[0]["line"] != 6.0 || diags[0]["severity"] != "error" {
		t.Errorf("first diagnostic = %v", diags[0])
	}
	r = runCLI(t, "validate", "--format", "sarif", "testdata/bad.yaml")
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine, StartColumn int
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) != 2 {
		t.Fatalf("sarif = %+v", log)
	}
	res := log.Runs[0].Results[0]
	rules := log.Runs[0].Tool.Driver.Rules
	if rules[res.RuleIndex].ID != res.RuleID || res.Locations[0].PhysicalLocation.Region.StartLine != 6 || res.Locations[0].PhysicalLocation.ArtifactLocation.URI != "internal/cli/testdata/bad.yaml" { // relative to the repository's root
		t.Errorf("sarif result = %+v", res)
	}
}

func TestSchemaIsJSON(t *testing.T) {
	r := runCLI(t, "schema")
	var v map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v["$schema"] == nil {
		t.Fatalf("schema output is not a JSON Schema: %v", err)
	}
}

func TestSnippetOnTerminal(t *testing.T) {
	var out bytes.Buffer
	c := &Command{Stdout: &out, Stderr: &bytes.Buffer{}, IsTerminal: true}
	c.Main([]string{"validate", "testdata/bad.yaml"})
	want := "    uses: lgo\n            ^\n"
	if !strings.Contains(out.String(), want) {
		t.Errorf("no snippet with caret in:\n%s", out.String())
	}
}
