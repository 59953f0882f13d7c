package eval

import (
	"reflect"
	"strconv"

	"github.com/alpha-orion/runbook/engine/catalog"
)

// The fast path. Parsing an expression with expr-lang and type-checking it
// against the reflect-built environment costs about 10 µs and a few dozen
// allocations; most guards and templates are small: member paths such as
// params.region or steps["stop-api"].outputs.previous, literals, now(), and
// the operators || && == != < > <= >= + - ! not. quick parses exactly that
// subset the way expr's parser does and types it with the rules of expr's
// checker, copied for the cases where the checker succeeds. It answers only
// when it is sure: on any other token, operator, name or type combination,
// and on every error, it gives up and Check takes the full expr-lang path,
// which finds and words the problem. TestQuickAgrees compares both on every
// expression of the test suite and on generated ones.

// maxQuickSource bounds what quick parses; expr's node limit is far above it.
const maxQuickSource = 512

// qkind is the kind of a quick node, mirroring expr's ast nodes.
type qkind uint8

const (
	qIdent  qkind = iota + 1 // IdentifierNode
	qMember                  // MemberNode with a StringNode property
	qString                  // StringNode
	qInt                     // IntegerNode
	qFloat                   // FloatNode
	qBool                    // BoolNode
	qUnary                   // UnaryNode
	qBinary                  // BinaryNode
	qNow                     // BuiltinNode now()
)

// qnode is one node; children are indexes into the parser's node slice.
type qnode struct {
	kind qkind
	op   string // operator, identifier name or member property
	l, r int32
	pos  int32 // byte offset of the node's token (the source is ASCII)
}

// qtoken kinds.
const (
	tEOF = iota
	tIdent
	tNumber
	tString
	tOp    // operators, including the word operators and and or
	tOpen  // (
	tClose // )
	tLBrack
	tRBrack
	tDot
)

type qtoken struct {
	kind int
	text string // for strings, the value without quotes
	pos  int
}

// quickParser parses the subset; ok turns false at the first thing it does not handle.
type quickParser struct {
	src   string
	i     int
	tok   qtoken
	nodes []qnode
	ok    bool
}

func (p *quickParser) fail() int32 { p.ok = false; return -1 }

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// next scans one token as expr's lexer would, failing on anything outside the subset.
func (p *quickParser) next() {
	s := p.src
	for p.i < len(s) && isSpaceByte(s[p.i]) {
		p.i++
	}
	start := p.i
	if p.i >= len(s) {
		p.tok = qtoken{kind: tEOF, pos: start}
		return
	}
	c := s[p.i]
	switch {
	case c == '"' || c == '\'':
		j := p.i + 1
		for j < len(s) && s[j] != c {
			if s[j] == '\\' || s[j] == '\n' || s[j] == '\r' {
				p.ok = false
				return
			}
			j++
		}
		if j >= len(s) {
			p.ok = false
			return
		}
		p.tok = qtoken{kind: tString, text: s[p.i+1 : j], pos: start}
		p.i = j + 1
	case isDigit(c):
		j := p.i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if c == '0' && j-p.i > 1 {
			p.ok = false // leading zeros: leave the number rules to expr
			return
		}
		if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
			for j++; j < len(s) && isDigit(s[j]); j++ {
			}
		}
		if j < len(s) && (isIdent(s[j]) || s[j] == '.') {
			p.ok = false
			return
		}
		if j-p.i > 15 {
			p.ok = false
			return
		}
		p.tok = qtoken{kind: tNumber, text: s[p.i:j], pos: start}
		p.i = j
	case isIdent(c):
		j := p.i
		for j < len(s) && isIdent(s[j]) {
			j++
		}
		word := s[p.i:j]
		if (word == "b" || word == "B") && j < len(s) && (s[j] == '"' || s[j] == '\'') {
			p.ok = false // a bytes literal
			return
		}
		kind := tIdent
		switch word {
		case "and", "or", "not":
			kind = tOp
		case "in", "matches", "contains", "startsWith", "endsWith", "let", "if", "else", "nil":
			p.ok = false
			return
		}
		p.tok = qtoken{kind: kind, text: word, pos: start}
		p.i = j
	default:
		p.i++
		kind := tOp
		switch c {
		case '(':
			kind = tOpen
		case ')':
			kind = tClose
		case '[':
			kind = tLBrack
		case ']':
			kind = tRBrack
		case '.':
			if p.i < len(s) && (s[p.i] == '.' || isDigit(s[p.i])) {
				p.ok = false
				return
			}
			kind = tDot
		case '|':
			if p.i < len(s) && s[p.i] == '|' {
				p.i++
			}
		case '&', '!', '=', '<', '>':
			if p.i < len(s) && (s[p.i] == '&' || s[p.i] == '=' || s[p.i] == '*') {
				p.i++
			}
		case '+', '-':
		default:
			p.ok = false
			return
		}
		p.tok = qtoken{kind: kind, text: s[start:p.i], pos: start}
	}
}

// precedence returns the binary precedence of the operators quick handles, or -1.
func precedence(op string) int {
	switch op {
	case "or", "||":
		return 10
	case "and", "&&":
		return 15
	case "==", "!=", "<", ">", "<=", ">=":
		return 20
	case "+", "-":
		return 30
	}
	return -1
}

func isOrdering(op string) bool { return op == "<" || op == ">" || op == "<=" || op == ">=" }

func (p *quickParser) add(n qnode) int32 {
	p.nodes = append(p.nodes, n)
	return int32(len(p.nodes) - 1)
}

// expression mirrors expr's parseExpression for the subset.
func (p *quickParser) expression(prec int) int32 {
	left := p.primary()
	for p.ok {
		if p.tok.kind != tOp {
			break
		}
		op := p.tok
		pr := precedence(op.text)
		if pr < 0 {
			return p.fail() // "not in", "|", "*", ... : expr's business
		}
		if pr < prec {
			break
		}
		p.next()
		right := p.expression(pr + 1)
		left = p.add(qnode{kind: qBinary, op: op.text, l: left, r: right, pos: int32(op.pos)})
		if isOrdering(op.text) && p.tok.kind == tOp && isOrdering(p.tok.text) {
			return p.fail() // a < b < c becomes a < b && b < c in expr
		}
	}
	return left
}

// primary mirrors parsePrimary and parseSecondary.
func (p *quickParser) primary() int32 {
	if !p.ok {
		return -1
	}
	t := p.tok
	switch t.kind {
	case tOp:
		var prec int
		switch t.text {
		case "!", "not":
			prec = 50
		case "-", "+":
			prec = 90
		default:
			return p.fail()
		}
		p.next()
		n := p.add(qnode{kind: qUnary, op: t.text, l: p.expression(prec), pos: int32(t.pos)})
		return p.postfix(n)
	case tOpen:
		p.next()
		n := p.expression(0)
		if !p.ok || p.tok.kind != tClose {
			return p.fail()
		}
		p.next()
		return p.postfix(n)
	case tIdent:
		p.next()
		switch t.text {
		case "true", "false":
			return p.add(qnode{kind: qBool, op: t.text, pos: int32(t.pos)})
		}
		if p.tok.kind == tOpen {
			if t.text != "now" {
				return p.fail()
			}
			p.next()
			if p.tok.kind != tClose {
				return p.fail()
			}
			p.next()
			return p.postfix(p.add(qnode{kind: qNow, op: t.text, pos: int32(t.pos)}))
		}
		return p.postfix(p.add(qnode{kind: qIdent, op: t.text, pos: int32(t.pos)}))
	case tNumber:
		p.next()
		for i := 0; i < len(t.text); i++ {
			if t.text[i] == '.' {
				return p.add(qnode{kind: qFloat, op: t.text, pos: int32(t.pos)})
			}
		}
		return p.add(qnode{kind: qInt, op: t.text, pos: int32(t.pos)})
	case tString:
		p.next()
		return p.postfix(p.add(qnode{kind: qString, op: t.text, pos: int32(t.pos)}))
	}
	return p.fail()
}

// postfix mirrors parsePostfixExpression for .name and ["name"].
func (p *quickParser) postfix(n int32) int32 {
	for p.ok {
		switch p.tok.kind {
		case tDot:
			p.next()
			if p.tok.kind != tIdent || !p.ok {
				return p.fail()
			}
			prop := p.tok
			p.next()
			if p.tok.kind == tOpen {
				return p.fail() // a method call
			}
			n = p.add(qnode{kind: qMember, op: prop.text, l: n, pos: int32(prop.pos)})
		case tLBrack:
			p.next()
			if p.tok.kind != tString || !p.ok {
				return p.fail()
			}
			prop := p.tok
			p.next()
			if p.tok.kind != tRBrack {
				return p.fail()
			}
			p.next()
			n = p.add(qnode{kind: qMember, op: prop.text, l: n, pos: int32(prop.pos)})
		default:
			return n
		}
	}
	return -1
}

// parse parses src into p's nodes, returning the root, or ok false.
func (p *quickParser) parse(src string) (root int32, ok bool) {
	if len(src) > maxQuickSource {
		return 0, false
	}
	for i := 0; i < len(src); i++ {
		if src[i] >= 0x80 {
			return 0, false // expr counts offsets in runes; keep bytes == runes
		}
	}
	*p = quickParser{src: src, ok: true, nodes: p.nodes[:0]}
	p.next()
	root = p.expression(0)
	if !p.ok || p.tok.kind != tEOF {
		return 0, false
	}
	return root, true
}

// quickRefs collects references in the order expr's ast.Walk visits member
// nodes (children first), as refs does for a parsed tree.
func quickRefs(nodes []qnode, root int32, out []Ref) []Ref {
	n := &nodes[root]
	switch n.kind {
	case qUnary:
		out = quickRefs(nodes, n.l, out)
	case qBinary:
		out = quickRefs(nodes, n.l, out)
		out = quickRefs(nodes, n.r, out)
	case qMember:
		out = quickRefs(nodes, n.l, out)
		// The chain down to the root; props in source order.
		var props [8]string
		k := 0
		m := root
		for nodes[m].kind == qMember {
			m = nodes[m].l
			k++
		}
		if nodes[m].kind != qIdent {
			return out
		}
		if k > len(props) {
			return out // longer paths are typed as unknown or refused below
		}
		m = root
		for i := k - 1; i >= 0; i-- {
			props[i] = nodes[m].op
			m = nodes[m].l
		}
		rootName := nodes[m].op
		r := Ref{Root: rootName, Name: props[0], Offset: int(nodes[m].pos)}
		switch rootName {
		case "params", "secrets", "outputs":
		case "steps":
			if k > 1 {
				r.Field = props[1]
			}
			if k > 2 {
				r.Key = props[2]
			}
		default:
			return out
		}
		out = append(out, r)
	}
	return out
}

// quickDepth reports whether every member chain is short enough for quickRefs.
func quickDepth(nodes []qnode) bool {
	for i := range nodes {
		if nodes[i].kind != qMember {
			continue
		}
		k := 0
		for m := int32(i); nodes[m].kind == qMember; m = nodes[m].l {
			k++
		}
		if k > 8 {
			return false
		}
	}
	return true
}

// qvalue is the static type quick gives a node: a Go type (nil: unknown, as
// expr's Nature{}), or one of the environment's objects, which quick only
// reads fields of.
type qvalue struct {
	t   reflect.Type
	obj qobject
	// step is the step of a qStep or qStepOutputs object; fields the outputs of a qOutputs object.
	step   *StepScope
	fields []catalog.Field
}

type qobject uint8

const (
	qNone qobject = iota
	qParams
	qSteps
	qStep
	qOutputs // a closed outputs struct (steps.X.outputs or outputs)
	qSecrets
	qRun
	qObjectives
)

var (
	anyType   = reflect.TypeOf(new(any)).Elem()
	boolType  = reflect.TypeOf(false)
	intType   = reflect.TypeOf(0)
	floatType = reflect.TypeOf(0.0)
	envMap    = reflect.TypeOf(map[string]string(nil))
)

// natures mirrors the parts of expr's Nature that the copied rules read.
func unknown(t reflect.Type) bool {
	return t == nil || t.Kind() == reflect.Interface && t.NumMethod() == 0
}

func isInteger(t reflect.Type) bool {
	switch t {
	case reflect.TypeOf(int(0)), reflect.TypeOf(int8(0)), reflect.TypeOf(int16(0)), reflect.TypeOf(int32(0)), reflect.TypeOf(int64(0)),
		reflect.TypeOf(uint(0)), reflect.TypeOf(uint8(0)), reflect.TypeOf(uint16(0)), reflect.TypeOf(uint32(0)), reflect.TypeOf(uint64(0)),
		reflect.TypeOf(uintptr(0)):
		return true
	}
	return false
}

func isFloat(t reflect.Type) bool {
	return t == reflect.TypeOf(float32(0)) || t == floatType
}

func isNumber(t reflect.Type) bool   { return t != nil && (isInteger(t) || isFloat(t)) }
func isTime(t reflect.Type) bool     { return t != nil && t == timeType }
func isDuration(t reflect.Type) bool { return t != nil && t == durationType }
func isBool(t reflect.Type) bool     { return t != nil && t.Kind() == reflect.Bool }
func isString(t reflect.Type) bool   { return t != nil && t.Kind() == reflect.String }
func isArray(t reflect.Type) bool {
	return t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array)
}

func assignable(a, b reflect.Type) bool {
	if a == nil || b == nil || a.Kind() != b.Kind() && b.Kind() != reflect.Interface {
		return false
	}
	return a.AssignableTo(b)
}

func comparable(a, b reflect.Type) bool {
	return unknown(a) || unknown(b) ||
		isNumber(a) && isNumber(b) ||
		isDuration(a) && isDuration(b) ||
		isTime(a) && isTime(b) ||
		isArray(a) && isArray(b) ||
		assignable(a, b)
}

// maybe mirrors Nature.MaybeCompatible with the checks given as predicates.
func maybe(a, b reflect.Type, checks ...func(reflect.Type) bool) bool {
	any := func(t reflect.Type) bool {
		for _, c := range checks {
			if c(t) {
				return true
			}
		}
		return false
	}
	ua, ub := unknown(a), unknown(b)
	return ua && ub || ua && any(b) || ub && any(a)
}

func promote(a, b reflect.Type) reflect.Type {
	if unknown(a) || unknown(b) {
		return nil
	}
	if isFloat(a) || isFloat(b) {
		return floatType
	}
	return intType
}

// quickBinary returns the type of a binary operation where expr's checker
// accepts it, copying its rules; ok is false where the checker would
// report an error.
func quickBinary(op string, l, r reflect.Type) (reflect.Type, bool) {
	switch op {
	case "==", "!=":
		if comparable(l, r) {
			return boolType, true
		}
	case "or", "||", "and", "&&":
		if isBool(l) && isBool(r) || maybe(l, r, isBool) {
			return boolType, true
		}
	case "<", ">", ">=", "<=":
		if isNumber(l) && isNumber(r) || isString(l) && isString(r) || isTime(l) && isTime(r) || isDuration(l) && isDuration(r) ||
			maybe(l, r, isNumber, isString, isTime, isDuration) {
			return boolType, true
		}
	case "-":
		switch {
		case isNumber(l) && isNumber(r):
			return promote(l, r), true
		case isTime(l) && isTime(r):
			return durationType, true
		case isTime(l) && isDuration(r):
			return timeType, true
		case isDuration(l) && isDuration(r):
			return durationType, true
		case maybe(l, r, isNumber, isTime, isDuration):
			return nil, true
		}
	case "+":
		switch {
		case isNumber(l) && isNumber(r):
			return promote(l, r), true
		case isString(l) && isString(r):
			return stringType, true
		case isTime(l) && isDuration(r), isDuration(l) && isTime(r):
			return timeType, true
		case isDuration(l) && isDuration(r):
			return durationType, true
		case maybe(l, r, isNumber, isString, isTime, isDuration):
			return nil, true
		}
	}
	return nil, false
}

// quickTypes types the tree; ok is false when the checker would complain or
// quick cannot tell.
type quickTyper struct {
	c       *Checker
	outputs *StepScope
	nodes   []qnode
}

func (q *quickTyper) typeOf(i int32) (qvalue, bool) {
	n := &q.nodes[i]
	switch n.kind {
	case qString:
		return qvalue{t: stringType}, true
	case qInt:
		return qvalue{t: intType}, true
	case qFloat:
		if _, err := strconv.ParseFloat(n.op, 64); err != nil {
			return qvalue{}, false
		}
		return qvalue{t: floatType}, true
	case qBool:
		return qvalue{t: boolType}, true
	case qNow:
		return qvalue{t: timeType}, true
	case qIdent:
		return q.root(n.op)
	case qMember:
		base, ok := q.typeOf(n.l)
		if !ok {
			return qvalue{}, false
		}
		return q.member(base, n.op)
	case qUnary:
		v, ok := q.typeOf(n.l)
		if !ok || v.obj != qNone {
			return qvalue{}, false
		}
		switch n.op {
		case "!", "not":
			if isBool(v.t) || unknown(v.t) {
				return qvalue{t: boolType}, true
			}
		case "-", "+":
			if isNumber(v.t) {
				return v, true
			}
			if unknown(v.t) {
				return qvalue{}, true
			}
		}
		return qvalue{}, false
	case qBinary:
		l, ok := q.typeOf(n.l)
		if !ok || l.obj != qNone {
			return qvalue{}, false
		}
		r, ok := q.typeOf(n.r)
		if !ok || r.obj != qNone {
			return qvalue{}, false
		}
		t, ok := quickBinary(n.op, l.t, r.t)
		return qvalue{t: t}, ok
	}
	return qvalue{}, false
}

// root types a top-level name of the environment.
func (q *quickTyper) root(name string) (qvalue, bool) {
	switch name {
	case "params":
		return qvalue{obj: qParams}, true
	case "steps":
		return qvalue{obj: qSteps}, true
	case "env":
		return qvalue{t: envMap}, true
	case "secrets":
		return qvalue{obj: qSecrets}, true
	case "run":
		return qvalue{obj: qRun}, true
	case "objectives":
		return qvalue{obj: qObjectives}, true
	case "outputs":
		if q.outputs != nil {
			return outputsValue(q.outputs), true
		}
	}
	return qvalue{}, false // functions, builtins and unknown names: expr decides
}

func outputsValue(s *StepScope) qvalue {
	if s.Open {
		return qvalue{t: openMap}
	}
	return qvalue{obj: qOutputs, fields: s.Outputs}
}

// member types base.name.
func (q *quickTyper) member(base qvalue, name string) (qvalue, bool) {
	if !safeName(name) {
		return qvalue{}, false
	}
	switch base.obj {
	case qNone:
		switch {
		case unknown(base.t):
			return qvalue{}, true
		case base.t.Kind() == reflect.Map && base.t.Key() == stringType && base.t.NumMethod() == 0:
			return qvalue{t: base.t.Elem()}, true
		}
		return qvalue{}, false
	case qParams:
		if f, ok := onlyField(q.c.scope.Params, name); ok {
			return qvalue{t: f.Type.GoType()}, true
		}
	case qSteps:
		if st, ok := q.c.ids[name]; ok {
			return qvalue{obj: qStep, step: st}, true
		}
	case qStep:
		switch name {
		case "outputs":
			return outputsValue(base.step), true
		case "status":
			return qvalue{t: stringType}, true
		}
	case qOutputs:
		if f, ok := onlyField(base.fields, name); ok {
			return qvalue{t: f.Type.GoType()}, true
		}
	case qSecrets:
		if q.c.secrets[name] {
			return qvalue{t: stringType}, true
		}
	case qRun:
		switch name {
		case "id", "runbook":
			return qvalue{t: stringType}, true
		case "started_at":
			return qvalue{t: timeType}, true
		case "elapsed":
			return qvalue{t: durationType}, true
		}
	case qObjectives:
		switch name {
		case "rto", "rpo":
			return qvalue{t: durationType}, true
		}
	}
	return qvalue{}, false
}

// onlyField returns the field called name when exactly one has that name
// and every name reads the same as a struct tag.
func onlyField(fs []catalog.Field, name string) (catalog.Field, bool) {
	var out catalog.Field
	n := 0
	for _, f := range fs {
		if !safeName(f.Name) {
			return out, false
		}
		if f.Name == name {
			out = f
			n++
		}
	}
	return out, n == 1
}

// safeName reports whether a name reads the same as a struct tag value.
func safeName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isIdent(c) && c != '-' {
			return false
		}
	}
	return true
}

// quickScope reports whether quick may look names up in scope: every name
// reads the same as a struct tag, and no param, secret or step is declared twice.
func quickScope(s *Scope) bool {
	seen := map[string]bool{}
	distinct := func(prefix, name string) bool {
		if !safeName(name) || seen[prefix+name] {
			return false
		}
		seen[prefix+name] = true
		return true
	}
	for _, p := range s.Params {
		if !distinct("p:", p.Name) {
			return false
		}
	}
	for _, name := range s.Secrets {
		if !distinct("s:", name) {
			return false
		}
	}
	for _, st := range s.Steps {
		if !distinct("t:", st.ID) {
			return false
		}
	}
	return true
}

// quick checks src (already rewritten) without expr-lang when it can.
func (c *Checker) quick(src string, outputs *StepScope) (Result, bool) {
	if !c.fast {
		return Result{}, false
	}
	root, ok := c.qp.parse(src)
	nodes := c.qp.nodes
	if !ok || !quickDepth(nodes) {
		return Result{}, false
	}
	var res Result
	c.qrefs = quickRefs(nodes, root, c.qrefs[:0])
	if len(c.qrefs) > 0 {
		res.Refs = append([]Ref(nil), c.qrefs...)
	}
	if !c.checkRefs(&res, outputs) {
		return res, true
	}
	q := quickTyper{c: c, outputs: outputs, nodes: nodes}
	v, ok := q.typeOf(root)
	if !ok || v.obj != qNone {
		return Result{}, false
	}
	if v.t == nil {
		v.t = anyType
	}
	res.Type = v.t
	return res, true
}
