package diag

import (
	"fmt"
	"io"
	"strings"
)

// Example is a rule's bad runbook and its fixed version, for docs/rules.md.
type Example struct {
	Bad, Good string
}

// WriteRulesMarkdown prints docs/rules.md: every rule by stage, with what
// it catches and, where examples has one, a bad and a fixed runbook.
func WriteRulesMarkdown(w io.Writer, examples func(id string) (Example, bool)) error {
	var b strings.Builder
	b.WriteString(`# Rules

<!-- Generated from engine/diag/rules.go and engine/lint/testdata/rules; do not edit.
     Regenerate with go test ./engine/lint -run TestRulesDoc -update -->

Every finding of ` + "`runbook validate`" + ` ends with its rule id in brackets,
` + "`file:line:col: severity: message [rule]`" + `. This page explains each id, grouped by the
stage that reports it.

A finding can be silenced, with a reason, by a comment: ` + "`# runbook:ignore RULE[,RULE] reason`" + `
above a key or a list item covers that key's value or that item; at the end of a line, that
line; ` + "`# runbook:ignore-file RULE[,RULE] reason`" + ` covers the whole file. A suppression without a
reason silences nothing ([` + "`ignore-reason`" + `](#ignore-reason)), and one that silences nothing is
reported too ([` + "`ignore-unused`" + `](#ignore-unused)).

` + "```yaml" + `
# runbook:ignore-file file-name generated from a template; the name is set by the caller
apiVersion: runbook/v1
...
steps:
  # runbook:ignore confirm the staging database is rebuilt every night
  - id: drop
    uses: postgres.exec
    with: { sql: drop schema app cascade }
` + "```" + `

`)
	for _, stage := range Stages {
		var ids []string
		for _, r := range Rules() {
			if r.Stage == stage {
				ids = append(ids, fmt.Sprintf("[`%s`](#%s)", r.ID, r.ID))
			}
		}
		fmt.Fprintf(&b, "- **%s**: %s\n", stage, strings.Join(ids, ", "))
	}
	stage := ""
	for _, r := range Rules() {
		if r.Stage != stage {
			stage = r.Stage
			fmt.Fprintf(&b, "\n## %s\n", strings.ToUpper(stage[:1])+stage[1:])
		}
		fmt.Fprintf(&b, "\n### %s\n\n%s\n\n%s\n", r.ID, r.Short, r.Full)
		if ex, ok := examples(r.ID); ok {
			fmt.Fprintf(&b, "\nBad:\n\n```yaml\n%s```\n\nFixed:\n\n```yaml\n%s```\n", ex.Bad, ex.Good)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
