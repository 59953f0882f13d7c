package eval

import "strings"

// Rewrite turns `steps.stop-api.outputs` into `steps["stop-api"].outputs` for
// step ids that contain '-', so ids read as names the way GitHub Actions reads
// them. isID reports whether a name is a step id; when no prefix of a dashed
// name is an id, the whole name is quoted so the error says "unknown step".
// It returns src unchanged when there is nothing to rewrite.
func Rewrite(src string, isID func(string) bool) string {
	if !strings.Contains(src, "steps.") || !strings.Contains(src, "-") {
		return src
	}
	var b strings.Builder
	i, last := 0, 0
	var quote byte
	for i < len(src) {
		c := src[i]
		if quote != 0 {
			if c == '\\' {
				i += 2
				continue
			}
			if c == quote {
				quote = 0
			}
			i++
			continue
		}
		if c == '"' || c == '\'' || c == '`' {
			quote = c
			i++
			continue
		}
		if !strings.HasPrefix(src[i:], "steps.") || (i > 0 && isIdent(src[i-1])) || (i > 0 && src[i-1] == '.') {
			i++
			continue
		}
		start := i + len("steps.")
		end := start
		for end < len(src) && (isIdent(src[end]) || src[end] == '-') {
			end++
		}
		name := src[start:end]
		if !strings.Contains(name, "-") {
			i = end
			continue
		}
		id := longestID(name, isID)
		b.WriteString(src[last:i])
		b.WriteString(`steps["`)
		b.WriteString(id)
		b.WriteString(`"]`)
		last = start + len(id)
		i = last
	}
	if last == 0 {
		return src
	}
	b.WriteString(src[last:])
	return b.String()
}

// longestID returns the longest prefix of name, cut at a '-', that is an id,
// or name itself when none is.
func longestID(name string, isID func(string) bool) string {
	for end := len(name); end > 0; {
		if isID(name[:end]) {
			return name[:end]
		}
		end = strings.LastIndexByte(name[:end], '-')
	}
	return name
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
