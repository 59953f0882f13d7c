// Package diag defines the one diagnostic type every stage of runbook reports
// problems with, and the helpers that sort, de-duplicate and count them.
//
// A diagnostic prints as "file:line:col: severity: message [rule]", the form
// editors and CI systems already understand.
package diag

import (
	"fmt"
	"sort"
)

// Severity says whether a finding blocks a run (Error) or only advises (Warning).
type Severity int

const (
	// Error findings make validate exit 1 and stop a run from starting.
	Error Severity = iota
	// Warning findings are advice; --strict turns them into failures.
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Pos is a position in a source file; Line and Col count from 1, 0 means unknown.
type Pos struct {
	Line int `json:"line"`
	Col  int `json:"column"`
}

// Diagnostic is one finding about one place in one file.
type Diagnostic struct {
	File     string   `json:"file"`
	Pos      Pos      `json:"pos"`
	Severity Severity `json:"-"`
	Message  string   `json:"message"`
	Rule     string   `json:"rule"`
}

// String formats the diagnostic as "file:line:col: severity: message [rule]".
func (d Diagnostic) String() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s [%s]", d.File, d.Pos.Line, d.Pos.Col, d.Severity, d.Message, d.Rule)
}

// Error lets a diagnostic travel as an error value.
func (d Diagnostic) Error() string { return d.String() }

// List collects diagnostics.
type List []Diagnostic

// Add appends an error finding.
func (l *List) Add(file string, pos Pos, rule, format string, args ...any) {
	*l = append(*l, Diagnostic{File: file, Pos: pos, Severity: Error, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// Warn appends a warning finding.
func (l *List) Warn(file string, pos Pos, rule, format string, args ...any) {
	*l = append(*l, Diagnostic{File: file, Pos: pos, Severity: Warning, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// Sort orders the list by file, line, column, rule and message, and drops exact duplicates.
func (l *List) Sort() {
	s := *l
	sort.SliceStable(s, func(i, j int) bool { return less(s[i], s[j]) })
	out := s[:0]
	for i, d := range s {
		if i > 0 && d == s[i-1] {
			continue
		}
		out = append(out, d)
	}
	*l = out
}

func less(a, b Diagnostic) bool {
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Pos.Line != b.Pos.Line {
		return a.Pos.Line < b.Pos.Line
	}
	if a.Pos.Col != b.Pos.Col {
		return a.Pos.Col < b.Pos.Col
	}
	if a.Rule != b.Rule {
		return a.Rule < b.Rule
	}
	return a.Message < b.Message
}

// Count returns the number of errors and of warnings in the list.
func (l List) Count() (errors, warnings int) {
	for _, d := range l {
		if d.Severity == Warning {
			warnings++
		} else {
			errors++
		}
	}
	return errors, warnings
}

// Err returns the list as an error when it holds at least one error finding, else nil.
func (l List) Err() error {
	if e, _ := l.Count(); e > 0 {
		return ListError(l)
	}
	return nil
}

// ListError is a List used as an error value.
type ListError List

// Error joins the diagnostics, one per line.
func (e ListError) Error() string {
	s := ""
	for i, d := range e {
		if i > 0 {
			s += "\n"
		}
		s += d.String()
	}
	return s
}
