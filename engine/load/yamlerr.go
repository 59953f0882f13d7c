package load

import (
	"bytes"

	"github.com/alpha-orion/runbook/engine/diag"
)

// parserProblems are the problems yaml.v3's parser (not its scanner)
// reports. For these it prints the 0-based line of the error's context,
// one line early; scanner errors already count from 1.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// flowProblems are the problems of a { } or [ ] that an unquoted value broke.
var flowProblems = map[string]bool{
	"did not find expected ',' or ']'":   true,
	"did not find expected ',' or '}'":   true,
	"did not find expected node content": true,
}

// flowLookahead is how many lines after a flow collection's start the
// hint looks for the value that broke it.
const flowLookahead = 20

// locateYAMLError turns yaml.v3's message and line (0 when it gave none)
// into the position of the problem and a hint for the known gotchas: a
// ${{ }} left unquoted inside { } or [ ], whose braces YAML reads as a
// nested mapping.
func locateYAMLError(src []byte, problem string, line int) (diag.Pos, string) {
	if parserProblems[problem] || line == 0 {
		line++
	}
	lines := bytes.Split(src, []byte("\n"))
	line = min(max(line, 1), len(lines))
	p := diag.Pos{Line: line, Col: 1}
	if !flowProblems[problem] {
		return p, ""
	}
	last := min(line+flowLookahead-1, len(lines))
	for l := line; l <= last; l++ {
		if i := bytes.Index(lines[l-1], []byte("${{")); i >= 0 && !quotedAt(lines[l-1], i) {
			return diag.Pos{Line: l, Col: i + 1}, `; inside { } or [ ], quote a value holding ${{ }}: "${{ ... }}"`
		}
	}
	for l := line; l <= last; l++ {
		if i := trailingQuestion(lines[l-1]); i >= 0 {
			return diag.Pos{Line: l, Col: i + 1}, `; inside { } or [ ], quote a value ending in '?': "Proceed?"`
		}
	}
	return p, "; is a { } or [ ] left open here, or does a value inside it need quotes?"
}

// trailingQuestion is the index of an unquoted '?' that ends a value (a
// space, ',', '}' or ']' follows), or -1.
func trailingQuestion(line []byte) int {
	for i := 0; i+1 < len(line); i++ {
		if line[i] == '?' && i > 0 && line[i-1] != ' ' && bytes.IndexByte([]byte(" ,}]"), line[i+1]) >= 0 && !quotedAt(line, i) {
			return i
		}
	}
	return -1
}

// quotedAt reports whether a quote opens before i on the line and stays
// open: then the ${{ is already inside a quoted value.
func quotedAt(line []byte, i int) bool {
	open := byte(0)
	for _, c := range line[:i] {
		switch {
		case open == 0 && (c == '"' || c == '\''):
			open = c
		case c == open:
			open = 0
		}
	}
	return open != 0
}
