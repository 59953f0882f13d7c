package load

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// The fast path. yaml.v3 is a port of libyaml: it scans into tokens, parses
// into events and builds nodes, about 1 ms for a 50-step runbook and a
// large share of validate's time. quickParse builds the same yaml.Node tree
// directly for the YAML runbooks are written in: block mappings and
// sequences, one-line flow collections, plain and one-line quoted scalars,
// comments. On anything else (anchors, aliases, tags, block scalars,
// multi-line scalars, tabs, several documents, odd indentation, and every
// error) it gives up and the loader asks yaml.v3, so findings and their
// positions never depend on which path ran. The nodes differ from yaml.v3's
// in one way: comments are not attached to them (nothing reads them).
// TestQuickYAMLAgrees and FuzzQuickYAML compare both parsers node by node.

// quickYAML parses src; ok is false when yaml.v3 must decide.
type quickYAML struct {
	src   string
	pos   int // byte offset
	line  int // 1-based line of pos
	start int // byte offset where the line of pos starts
	slab  []yaml.Node
	kids  []*yaml.Node // children collected before they are copied out
	depth int          // nesting of collections, bounded well below yaml.v3's limit
	ok    bool
}

// maxQuickDepth bounds nesting; deeper files go to yaml.v3.
const maxQuickDepth = 50

// enter counts one more level of nesting; false when too deep.
func (q *quickYAML) enter() bool {
	q.depth++
	return q.depth <= maxQuickDepth
}

// quickParse returns the root mapping of src, or nil when yaml.v3 must parse it.
func quickParse(src []byte) *yaml.Node {
	q := &quickYAML{src: string(src), line: 1, ok: true}
	if !q.printable() {
		return nil
	}
	if !q.skipToContent() || q.col() != 0 {
		return nil
	}
	root := q.blockMapping(0)
	if !q.ok || q.pos < len(q.src) {
		return nil
	}
	return root
}

// printable rejects what the scanner treats specially: tabs, carriage
// returns, control characters, a byte order mark and Unicode line breaks.
func (q *quickYAML) printable() bool {
	s := q.src
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			if c < 0x20 && c != '\n' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || r < 0xa0 || r == 0x2028 || r == 0x2029 || r == 0xfeff || r >= 0xd800 && r < 0xe000 || r > 0xfffd && r < 0x10000 {
			return false
		}
		i += n
	}
	return true
}

func (q *quickYAML) fail() *yaml.Node { q.ok = false; return nil }

// col is the 0-based column of pos in characters, as yaml.v3 counts.
func (q *quickYAML) col() int {
	seg := q.src[q.start:q.pos]
	for i := 0; i < len(seg); i++ {
		if seg[i] >= 0x80 {
			return utf8.RuneCountInString(seg)
		}
	}
	return len(seg)
}

func (q *quickYAML) peek(off int) byte {
	if q.pos+off < len(q.src) {
		return q.src[q.pos+off]
	}
	return 0
}

// skipSpaces skips spaces on the current line.
func (q *quickYAML) skipSpaces() {
	for q.pos < len(q.src) && q.src[q.pos] == ' ' {
		q.pos++
	}
}

// endOfLine accepts spaces and a comment up to the line break, which it passes.
func (q *quickYAML) endOfLine() bool {
	q.skipSpaces()
	if q.pos < len(q.src) && q.src[q.pos] == '#' {
		if q.pos > q.start && q.src[q.pos-1] != ' ' {
			return false // a comment must follow a space
		}
		for q.pos < len(q.src) && q.src[q.pos] != '\n' {
			q.pos++
		}
	}
	if q.pos >= len(q.src) {
		return true
	}
	if q.src[q.pos] != '\n' {
		return false
	}
	q.newline()
	return true
}

func (q *quickYAML) newline() {
	q.pos++
	q.line++
	q.start = q.pos
}

// skipToContent passes blank and comment lines and stops at the first
// character of the next line with content; false at a document marker.
func (q *quickYAML) skipToContent() bool {
	for q.pos < len(q.src) {
		q.skipSpaces()
		if q.pos >= len(q.src) {
			return true
		}
		switch q.src[q.pos] {
		case '\n':
			q.newline()
			continue
		case '#':
			if !q.endOfLine() {
				return false
			}
			continue
		}
		if q.pos == q.start && (strings.HasPrefix(q.src[q.pos:], "---") || strings.HasPrefix(q.src[q.pos:], "...")) {
			return false
		}
		return true
	}
	return true
}

// slabSize is how many nodes are allocated at once; a new slab leaves the
// nodes of the last one where they are.
const slabSize = 128

func (q *quickYAML) node(kind yaml.Kind, tag, value string, style yaml.Style, line, col int) *yaml.Node {
	if len(q.slab) == cap(q.slab) {
		q.slab = make([]yaml.Node, 0, slabSize)
	}
	q.slab = q.slab[:len(q.slab)+1]
	n := &q.slab[len(q.slab)-1] // set field by field: copying a whole Node costs write barriers
	n.Kind, n.Tag, n.Value, n.Style, n.Line, n.Column = kind, tag, value, style, line, col+1
	return n
}

// children moves the nodes collected since mark into a slice of their own.
func (q *quickYAML) children(mark int) []*yaml.Node {
	out := make([]*yaml.Node, len(q.kids)-mark)
	copy(out, q.kids[mark:])
	q.kids = q.kids[:mark]
	return out
}

// blockMapping parses the mapping whose keys start at column col; pos is at its first key.
func (q *quickYAML) blockMapping(col int) *yaml.Node {
	if !q.enter() {
		return q.fail()
	}
	defer func() { q.depth-- }()
	m := q.node(yaml.MappingNode, "!!map", "", 0, q.line, col)
	mark := len(q.kids)
	for q.ok {
		k := q.key(false)
		if k == nil {
			return q.fail()
		}
		q.kids = append(q.kids, k)
		v := q.blockValue(col)
		if v == nil {
			return q.fail()
		}
		q.kids = append(q.kids, v)
		if !q.skipToContent() {
			return q.fail()
		}
		if q.pos >= len(q.src) {
			break
		}
		c := q.col()
		if c < col {
			break
		}
		if c > col || q.src[q.pos] == '-' && q.isBlankAt(1) {
			return q.fail()
		}
	}
	m.Content = q.children(mark)
	return m
}

// isBlankAt reports whether the byte at pos+off is a space, a line break or the end.
func (q *quickYAML) isBlankAt(off int) bool {
	c := q.peek(off)
	return c == 0 || c == ' ' || c == '\n'
}

// key parses a mapping key and its ':' (followed by a blank); flow is set in flow context.
func (q *quickYAML) key(flow bool) *yaml.Node {
	line, col := q.line, q.col()
	var k *yaml.Node
	switch c := q.peek(0); c {
	case '"', '\'':
		k = q.quoted()
	default:
		if !plainStart(c, q.peek(1)) {
			return nil
		}
		k = q.plain(flow, true, line, col)
	}
	if k == nil || k.Line != line || q.pos-q.start > 1024 || q.peek(0) != ':' || !q.isBlankAt(1) {
		return nil
	}
	if k.Style == 0 && k.Value == "<<" {
		return nil // a merge key
	}
	q.pos++
	return k
}

// plainStart reports whether c, followed by next, may start a plain scalar quick handles.
func plainStart(c, next byte) bool {
	if c == '-' {
		return next == '.' || next == '_' || next >= '0' && next <= '9' || next >= 'a' && next <= 'z' || next >= 'A' && next <= 'Z'
	}
	switch c {
	case 0, ' ', '\n', '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	}
	return true
}

// plain scans a one-line plain scalar. A key stops at ": "; a value must not contain one.
func (q *quickYAML) plain(flow, isKey bool, line, col int) *yaml.Node {
	s := q.src
	begin := q.pos
	end := begin // end of the last non-space character
	for q.pos < len(s) {
		c := s[q.pos]
		if c == '\n' {
			break
		}
		if c == ':' && q.isBlankAt(1) {
			if !isKey {
				return nil // "mapping values are not allowed in this context"
			}
			break
		}
		if c == '#' && q.pos > begin && s[q.pos-1] == ' ' {
			break
		}
		if flow && (c == ',' || c == '?' || c == '[' || c == ']' || c == '{' || c == '}') {
			break
		}
		q.pos++
		if c != ' ' {
			end = q.pos
		}
	}
	if isKey && q.pos < len(s) && s[q.pos] == ':' && end != q.pos {
		return nil // a space before the ':' of a key
	}
	value := s[begin:end]
	if value == "<<" {
		return nil // yaml.v3 tags it !!merge
	}
	return q.node(yaml.ScalarNode, resolveTag(value), value, 0, line, col)
}

// quoted scans a one-line single- or double-quoted scalar without escapes.
func (q *quickYAML) quoted() *yaml.Node {
	line, col := q.line, q.col()
	quote := q.src[q.pos]
	i := q.pos + 1
	var b strings.Builder
	copied := i
	for {
		if i >= len(q.src) || q.src[i] == '\n' || quote == '"' && q.src[i] == '\\' {
			return nil // multi-line, unterminated or escaped: yaml.v3's business
		}
		if q.src[i] == quote {
			if quote == '\'' && i+1 < len(q.src) && q.src[i+1] == '\'' {
				b.WriteString(q.src[copied : i+1])
				i += 2
				copied = i
				continue
			}
			break
		}
		i++
	}
	value := q.src[copied:i]
	if b.Len() > 0 {
		b.WriteString(value)
		value = b.String()
	}
	q.pos = i + 1
	style := yaml.DoubleQuotedStyle
	if quote == '\'' {
		style = yaml.SingleQuotedStyle
	}
	return q.node(yaml.ScalarNode, "!!str", value, style, line, col)
}

// blockValue parses what follows a block mapping's "key:"; col is the mapping's column.
func (q *quickYAML) blockValue(col int) *yaml.Node {
	q.skipSpaces()
	if q.pos >= len(q.src) || q.src[q.pos] == '\n' || q.src[q.pos] == '#' {
		// The value is on the following lines: a nested block.
		if !q.endOfLine() || !q.skipToContent() || q.pos >= len(q.src) {
			return nil
		}
		c := q.col()
		dash := q.src[q.pos] == '-' && q.isBlankAt(1)
		switch {
		case dash && c >= col:
			return q.blockSequence(c, col)
		case c > col && !dash:
			return q.blockMapping(c)
		}
		return nil // an empty value
	}
	v := q.inline(col)
	if v == nil || !q.endOfLine() {
		return nil
	}
	return v
}

// inline parses a value that starts on the current line in block context;
// indent is the column of the innermost block collection.
func (q *quickYAML) inline(indent int) *yaml.Node {
	line, col := q.line, q.col()
	switch c := q.peek(0); c {
	case '{', '[':
		return q.flow()
	case '"', '\'':
		return q.quoted()
	case '|', '>':
		return q.blockScalar(indent)
	default:
		if !plainStart(c, q.peek(1)) {
			return nil
		}
		n := q.plain(false, false, line, col)
		if n == nil || q.continues(indent) {
			return nil
		}
		return n
	}
}

// continues reports whether the plain scalar ending on the current line
// goes on to the next lines, which quick leaves to yaml.v3.
func (q *quickYAML) continues(indent int) bool {
	i := q.pos
	for i < len(q.src) && q.src[i] != '\n' {
		i++
	}
	for i < len(q.src) {
		i++ // the line break
		j := i
		for j < len(q.src) && q.src[j] == ' ' {
			j++
		}
		if j >= len(q.src) {
			return false
		}
		if q.src[j] == '\n' {
			i = j
			continue
		}
		return j-i > indent && q.src[j] != '#'
	}
	return false
}

// blockScalar parses a literal (|) or folded (>) scalar, with an optional
// chomping indicator; indent is the column of the innermost block
// collection. It leaves pos at the end of its last line, so the caller's
// endOfLine passes the line break.
func (q *quickYAML) blockScalar(indent int) *yaml.Node {
	line, col := q.line, q.col()
	style := yaml.LiteralStyle
	if q.src[q.pos] == '>' {
		style = yaml.FoldedStyle
	}
	q.pos++
	chomp := byte(0)
	if c := q.peek(0); c == '-' || c == '+' {
		chomp = c
		q.pos++
	}
	if c := q.peek(0); c != ' ' && c != '\n' && c != 0 {
		return nil // an indentation indicator, or text after the header
	}
	if !q.endOfLine() || q.pos >= len(q.src) {
		return nil
	}
	// The content: lines indented by at least n, the first line's indentation.
	n := 0
	for q.pos+n < len(q.src) && q.src[q.pos+n] == ' ' {
		n++
	}
	if n <= indent || q.pos+n >= len(q.src) || q.src[q.pos+n] == '\n' {
		return nil // empty, or leading blank lines
	}
	var lines []string
	end := q.pos // the end of the last content line
	for i := q.pos; i < len(q.src); {
		j := strings.IndexByte(q.src[i:], '\n')
		if j < 0 {
			return nil // the last line has no line break
		}
		l := q.src[i : i+j]
		if l == "" {
			lines = append(lines, "")
			i += j + 1
			continue
		}
		sp := 0
		for sp < len(l) && l[sp] == ' ' {
			sp++
		}
		if sp == len(l) {
			return nil // a line of spaces only
		}
		if sp < n {
			break
		}
		if style == yaml.FoldedStyle && sp > n {
			return nil // more-indented lines keep their breaks: yaml.v3's business
		}
		lines = append(lines, l[n:])
		i += j + 1
		end = i - 1
	}
	// Trailing empty lines belong to the scalar only with keep (+).
	body := lines
	for len(body) > 0 && body[len(body)-1] == "" {
		body = body[:len(body)-1]
	}
	trailing := len(lines) - len(body)
	var b strings.Builder
	for k, l := range body {
		if k > 0 {
			switch {
			case style == yaml.LiteralStyle, l == "":
				b.WriteByte('\n')
			case body[k-1] == "":
				// The break before a paragraph is the empty lines' breaks.
			default:
				b.WriteByte(' ') // folded
			}
		}
		b.WriteString(l)
	}
	switch chomp {
	case 0:
		b.WriteByte('\n')
	case '+':
		b.WriteByte('\n')
		for k := 0; k < trailing; k++ {
			b.WriteByte('\n')
		}
		if trailing > 0 {
			return nil // where keep's empty lines end is yaml.v3's business
		}
	}
	// Move to the end of the last content line, counting the lines passed.
	for q.pos < end {
		if q.src[q.pos] == '\n' {
			q.newline()
			continue
		}
		q.pos++
	}
	return q.node(yaml.ScalarNode, "!!str", b.String(), style, line, col)
}

// blockSequence parses the sequence whose dashes are at column col; parent
// is the column of the mapping holding it (equal to col when indentless).
func (q *quickYAML) blockSequence(col, parent int) *yaml.Node {
	if !q.enter() {
		return q.fail()
	}
	defer func() { q.depth-- }()
	s := q.node(yaml.SequenceNode, "!!seq", "", 0, q.line, col)
	mark := len(q.kids)
	for q.ok {
		q.pos++ // the dash
		q.skipSpaces()
		if q.pos >= len(q.src) || q.src[q.pos] == '\n' || q.src[q.pos] == '#' {
			return q.fail() // an item on the next line, or empty
		}
		item := q.item(col)
		if item == nil {
			return q.fail()
		}
		q.kids = append(q.kids, item)
		if !q.skipToContent() {
			return q.fail()
		}
		if q.pos >= len(q.src) {
			break
		}
		c := q.col()
		if c < col || c == col && col == parent && !(q.src[q.pos] == '-' && q.isBlankAt(1)) {
			break
		}
		if c != col || !(q.src[q.pos] == '-' && q.isBlankAt(1)) {
			return q.fail()
		}
	}
	s.Content = q.children(mark)
	return s
}

// item parses a sequence item that starts on the line of its dash, at column dash.
func (q *quickYAML) item(dash int) *yaml.Node {
	if q.looksLikeKey() {
		return q.blockMapping(q.col())
	}
	if q.peek(0) == '-' {
		return nil // a nested sequence
	}
	// A scalar or flow item; the sequence's indent is its dash's column.
	v := q.inline(dash)
	if v == nil || !q.endOfLine() {
		return nil
	}
	return v
}

// looksLikeKey reports whether the current line holds "key:" at pos.
func (q *quickYAML) looksLikeKey() bool {
	save := *q
	k := q.key(false)
	q.pos, q.line, q.start, q.slab = save.pos, save.line, save.start, save.slab
	return k != nil
}

// flow parses a flow mapping or sequence that closes on the same line.
func (q *quickYAML) flow() *yaml.Node {
	if !q.enter() {
		return nil
	}
	defer func() { q.depth-- }()
	line, col := q.line, q.col()
	open := q.src[q.pos]
	q.pos++
	var n *yaml.Node
	if open == '{' {
		n = q.node(yaml.MappingNode, "!!map", "", yaml.FlowStyle, line, col)
	} else {
		n = q.node(yaml.SequenceNode, "!!seq", "", yaml.FlowStyle, line, col)
	}
	mark := len(q.kids)
	q.skipSpaces()
	closing := byte(']')
	if open == '{' {
		closing = '}'
	}
	if q.peek(0) == closing {
		q.pos++
		n.Content = q.children(mark)
		return n
	}
	for {
		if open == '{' {
			k := q.key(true)
			if k == nil {
				return nil
			}
			q.kids = append(q.kids, k)
			q.skipSpaces()
		}
		v := q.flowValue()
		if v == nil {
			return nil
		}
		q.kids = append(q.kids, v)
		q.skipSpaces()
		switch q.peek(0) {
		case ',':
			q.pos++
			q.skipSpaces()
			if c := q.peek(0); c == closing || c == ',' {
				return nil // a trailing or doubled comma
			}
			continue
		case closing:
			q.pos++
			n.Content = q.children(mark)
			return n
		}
		return nil
	}
}

// flowValue parses a value inside a flow collection.
func (q *quickYAML) flowValue() *yaml.Node {
	line, col := q.line, q.col()
	switch c := q.peek(0); c {
	case '{', '[':
		return q.flow()
	case '"', '\'':
		return q.quoted()
	default:
		if !plainStart(c, q.peek(1)) {
			return nil
		}
		n := q.plain(true, false, line, col)
		if n == nil || n.Value == "" || q.peek(0) == ':' || q.peek(0) == '#' {
			return nil
		}
		return n
	}
}

// resolveTag returns the tag yaml.v3 resolves a plain scalar to (its
// resolve function, for the tag only).
func resolveTag(in string) string {
	if in == "" {
		return "!!null"
	}
	switch in[0] {
	case '+', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return resolveNumber(in)
	case '.':
		switch in {
		case ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF":
			return "!!float"
		}
		if _, err := strconv.ParseFloat(in, 64); err == nil {
			return "!!float"
		}
		return "!!str"
	case 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O', '~':
		switch in {
		case "true", "True", "TRUE", "false", "False", "FALSE":
			return "!!bool"
		case "~", "null", "Null", "NULL":
			return "!!null"
		}
	}
	return "!!str"
}

func resolveNumber(in string) string {
	switch in {
	case "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
		return "!!float"
	}
	if looksLikeTimestamp(in) {
		return "!!timestamp"
	}
	plain := strings.ReplaceAll(in, "_", "")
	if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
		return "!!int"
	}
	if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
		return "!!int"
	}
	if yamlStyleFloat(plain) {
		if _, err := strconv.ParseFloat(plain, 64); err == nil {
			return "!!float"
		}
	}
	switch {
	case strings.HasPrefix(plain, "0b"):
		if _, err := strconv.ParseInt(plain[2:], 2, 64); err == nil {
			return "!!int"
		}
		if _, err := strconv.ParseUint(plain[2:], 2, 64); err == nil {
			return "!!int"
		}
	case strings.HasPrefix(plain, "-0b"):
		if _, err := strconv.ParseInt("-"+plain[3:], 2, 64); err == nil {
			return "!!int"
		}
	}
	switch {
	case strings.HasPrefix(plain, "0o"):
		if _, err := strconv.ParseInt(plain[2:], 8, 64); err == nil {
			return "!!int"
		}
		if _, err := strconv.ParseUint(plain[2:], 8, 64); err == nil {
			return "!!int"
		}
	case strings.HasPrefix(plain, "-0o"):
		if _, err := strconv.ParseInt("-"+plain[3:], 8, 64); err == nil {
			return "!!int"
		}
	}
	return "!!str"
}

// looksLikeTimestamp mirrors yaml.v3's parseTimestamp.
func looksLikeTimestamp(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c < '0' || c > '9' {
			break
		}
	}
	if i != 4 || i == len(s) || s[i] != '-' {
		return false
	}
	for _, format := range timestampFormats {
		if _, err := time.Parse(format, s); err == nil {
			return true
		}
	}
	return false
}

// timestampFormats are yaml.v3's allowedTimestampFormats.
var timestampFormats = []string{
	"2006-1-2T15:4:5.999999999Z07:00",
	"2006-1-2t15:4:5.999999999Z07:00",
	"2006-1-2 15:4:5.999999999",
	"2006-1-2",
}

// yamlStyleFloat matches ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$.
func yamlStyleFloat(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	} else {
		if digits() == 0 {
			return false
		}
		if i < len(s) && s[i] == '.' {
			i++
			digits()
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
