package diag

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Sources maps a file name to its content, for snippets.
type Sources map[string][]byte

// WriteText prints one line per diagnostic; with snippets, the source line
// and a caret under the column follow each.
func WriteText(w io.Writer, l List, src Sources, snippets bool) error {
	var b bytes.Buffer
	for _, d := range l {
		b.WriteString(d.String())
		b.WriteByte('\n')
		if snippets {
			if line, ok := sourceLine(src[d.File], d.Pos.Line); ok {
				fmt.Fprintf(&b, "  %s\n  %s^\n", line, caretPad(line, d.Pos.Col))
			}
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func sourceLine(src []byte, n int) (string, bool) {
	if n < 1 || src == nil {
		return "", false
	}
	for i := 1; i < n; i++ {
		k := bytes.IndexByte(src, '\n')
		if k < 0 {
			return "", false
		}
		src = src[k+1:]
	}
	if k := bytes.IndexByte(src, '\n'); k >= 0 {
		src = src[:k]
	}
	return strings.TrimRight(string(src), "\r"), true
}

// caretPad returns the white space that puts a caret under column col,
// keeping tabs so the caret lines up.
func caretPad(line string, col int) string {
	var b strings.Builder
	for i, r := range line {
		if utf8.RuneCountInString(line[:i]) >= col-1 {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

type jsonDiag struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Rule     string `json:"rule"`
}

// WriteJSON prints the diagnostics as one JSON array.
func WriteJSON(w io.Writer, l List) error {
	out := make([]jsonDiag, len(l))
	for i, d := range l {
		out[i] = jsonDiag{d.File, d.Pos.Line, d.Pos.Col, d.Severity.String(), d.Message, d.Rule}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteGitHub prints GitHub Actions workflow commands that annotate a pull request.
func WriteGitHub(w io.Writer, l List) error {
	var b bytes.Buffer
	for _, d := range l {
		fmt.Fprintf(&b, "::%s file=%s,line=%d,col=%d,title=%s::%s\n",
			d.Severity, ghProperty(d.File), d.Pos.Line, d.Pos.Col, ghProperty("runbook "+d.Rule), ghData(d.Message))
	}
	_, err := w.Write(b.Bytes())
	return err
}

func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
