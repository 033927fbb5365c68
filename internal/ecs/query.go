package ecs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The cluster query language selects container instances, in memberOf
// placement constraints and ListContainerInstances filters. An expression
// is a comparison
//
//	subject operator [argument]
//
// or expressions joined with "and" (&&), "or" (||), "not" (!) and
// parentheses; "not" binds tightest, then "and", then "or".
//
// Subjects:
//
//	agentConnected         ==, !=, in, !in, =~, !~   (true or false)
//	agentVersion           ==, !=, >, >=, <, <=      (dotted versions)
//	attribute:NAME         every operator
//	ec2InstanceId          ==, !=, in, !in, =~, !~
//	registeredAt           ==, !=, >, >=, <, <=      (2018-06-18T22:28:28+00:00,
//	                                                  2018-06-18T22:28:28Z,
//	                                                  2018-06-18T22:28:28, 2018-06-18)
//	runningTasksCount      ==, !=, >, >=, <, <=      (integers)
//	task:group             ==, !=, in, !in, =~, !~
//
// Operators have a symbol and a word form: == equals, != not_equals,
// > greater_than, >= greater_than_equal, < less_than, <= less_than_equal,
// exists, !exists not_exists, in, !in not_in, =~ matches, !~ not_matches.
// exists takes no argument; in takes a list [a, b, ...] (or a single value);
// the others take one value. Values are bare words (us-east-1a, t2.*,
// service:web) or quoted with single or double quotes. A matches pattern is
// a regular expression that must match the whole value, so t2.* selects
// every t2 instance type.
//
// Semantics berth fixes where ECS's documentation is silent: the negated
// operators are exactly the negation of their positive form, so an instance
// without attribute x satisfies "attribute:x != y" but not "attribute:x == y";
// task:group compares against the group of every task on the instance and
// is true when any of them matches (so "task:group != db" means "runs no
// task of group db"); > and < compare numerically when both sides are
// numbers, by dotted version for agentVersion, and as strings otherwise; a
// date-only registeredAt compares calendar days (UTC).

// MaxQueryLength is the longest expression ECS accepts.
const MaxQueryLength = 2000

const maxQueryDepth = 64

// Query is a parsed cluster query language expression.
type Query struct {
	src      string
	root     qnode
	usesTask bool
}

// ParseQuery parses a cluster query language expression. A malformed
// expression is an InvalidParameterException naming the problem and where.
func ParseQuery(expr string) (*Query, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, invalidParam("The placement constraint expression is empty.")
	}
	if len(expr) > MaxQueryLength {
		return nil, invalidParam("The placement constraint expression is too long: at most %d characters are allowed.", MaxQueryLength)
	}
	toks, err := lexQuery(expr)
	if err != nil {
		return nil, err
	}
	p := &qparser{src: expr, toks: toks}
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tkEOF {
		return nil, p.errAt(t.pos, "unexpected %s; expected 'and', 'or' or the end of the expression", t)
	}
	return &Query{src: expr, root: root, usesTask: p.usesTask}, nil
}

// Source returns the expression as it was written.
func (q *Query) Source() string { return q.src }

// String returns the expression in canonical form: subjects in their
// documented spelling, symbolic operators, word connectives and only the
// parentheses the structure needs.
// ParseQuery(q.String()) is equivalent to q.
func (q *Query) String() string {
	var b strings.Builder
	q.root.write(&b)
	return b.String()
}

// UsesTaskGroups reports whether the expression looks at the tasks on an
// instance (task:group), so that its value can change when a task is placed.
func (q *Query) UsesTaskGroups() bool { return q.usesTask }

// Eval reports whether the instance matches the expression. taskGroups
// holds the group of every task on the instance (pending or running).
// Every field of ci a subject reads must hold the instance's current
// value, ci.RunningTasksCount included (the stored instance record does
// not keep it: callers count the instance's running tasks).
func (q *Query) Eval(ci *ContainerInstance, taskGroups []string) bool {
	return q.root.eval(&qenv{ci: ci, groups: taskGroups})
}

// ---- lexer ----

type tokKind int

const (
	tkEOF tokKind = iota
	tkWord
	tkString
	tkLParen
	tkRParen
	tkLBrack
	tkRBrack
	tkComma
	tkOp
	tkBang
	tkAnd
	tkOr
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func (t token) String() string {
	switch t.kind {
	case tkEOF:
		return "end of expression"
	case tkString:
		return strconv.Quote(t.text)
	}
	return "'" + t.text + "'"
}

// isWordByte reports whether c can be part of a bare word.
func isWordByte(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '(', ')', '[', ']', ',', '\'', '"', '=', '!', '<', '>', '~', '&', '|':
		return false
	}
	return true
}

func lexQuery(s string) ([]token, error) {
	var toks []token
	errAt := func(pos int, format string, args ...any) error {
		return queryErr(s, pos, format, args...)
	}
	for i := 0; i < len(s); {
		c := s[i]
		two := ""
		if i+1 < len(s) {
			two = s[i : i+2]
		}
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tkLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tkRParen, ")", i})
			i++
		case c == '[':
			toks = append(toks, token{tkLBrack, "[", i})
			i++
		case c == ']':
			toks = append(toks, token{tkRBrack, "]", i})
			i++
		case c == ',':
			toks = append(toks, token{tkComma, ",", i})
			i++
		case two == "&&":
			toks = append(toks, token{tkAnd, "&&", i})
			i += 2
		case two == "||":
			toks = append(toks, token{tkOr, "||", i})
			i += 2
		case two == "==" || two == "!=" || two == ">=" || two == "<=" || two == "=~" || two == "!~":
			toks = append(toks, token{tkOp, two, i})
			i += 2
		case c == '>' || c == '<':
			toks = append(toks, token{tkOp, string(c), i})
			i++
		case c == '!':
			if w := bangWord(s[i+1:]); w != "" {
				toks = append(toks, token{tkOp, "!" + w, i})
				i += 1 + len(w)
			} else {
				toks = append(toks, token{tkBang, "!", i})
				i++
			}
		case c == '\'' || c == '"':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				return nil, errAt(i, "unterminated quoted value")
			}
			toks = append(toks, token{tkString, s[i+1 : i+1+end], i})
			i += end + 2
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			toks = append(toks, token{tkWord, s[i:j], i})
			i = j
		default:
			return nil, errAt(i, "unexpected character %q", c)
		}
	}
	return append(toks, token{tkEOF, "", len(s)}), nil
}

// bangWord returns "in" or "exists" if s starts with that word (ending at a
// non-word character), so that "!in" and "!exists" lex as operators.
func bangWord(s string) string {
	for _, w := range []string{"in", "exists"} {
		if len(s) >= len(w) && strings.EqualFold(s[:len(w)], w) && (len(s) == len(w) || !isWordByte(s[len(w)])) {
			return s[:len(w)]
		}
	}
	return ""
}

func queryErr(src string, pos int, format string, args ...any) error {
	return invalidParam("Invalid placement constraint expression %q: %s (at character %d).", src, fmt.Sprintf(format, args...), pos+1)
}

// ---- AST ----

type qenv struct {
	ci     *ContainerInstance
	groups []string
}

type qnode interface {
	eval(*qenv) bool
	write(*strings.Builder)
}

type qAnd struct{ l, r qnode }
type qOr struct{ l, r qnode }
type qNot struct{ x qnode }

func (n *qAnd) eval(e *qenv) bool { return n.l.eval(e) && n.r.eval(e) }
func (n *qOr) eval(e *qenv) bool  { return n.l.eval(e) || n.r.eval(e) }
func (n *qNot) eval(e *qenv) bool { return !n.x.eval(e) }

// write renders the minimal parenthesization that parses back to the same
// tree: "or" is looser than "and", which is looser than "not", and both
// binary operators group to the left.
func (n *qAnd) write(b *strings.Builder) {
	writeChild(b, n.l, isOr)
	b.WriteString(" and ")
	writeChild(b, n.r, isBinary)
}

func (n *qOr) write(b *strings.Builder) {
	n.l.write(b)
	b.WriteString(" or ")
	writeChild(b, n.r, isOr)
}

func (n *qNot) write(b *strings.Builder) {
	b.WriteString("not ")
	writeChild(b, n.x, isBinary)
}

func isOr(n qnode) bool { _, ok := n.(*qOr); return ok }

func isBinary(n qnode) bool {
	switch n.(type) {
	case *qOr, *qAnd:
		return true
	}
	return false
}

func writeChild(b *strings.Builder, n qnode, paren func(qnode) bool) {
	if !paren(n) {
		n.write(b)
		return
	}
	b.WriteByte('(')
	n.write(b)
	b.WriteByte(')')
}

type subjectKind int

const (
	subjAgentConnected subjectKind = iota
	subjAgentVersion
	subjAttribute
	subjEC2InstanceID
	subjRegisteredAt
	subjRunningTasksCount
	subjTaskGroup
)

var subjectNames = map[subjectKind]string{
	subjAgentConnected: "agentConnected", subjAgentVersion: "agentVersion",
	subjEC2InstanceID: "ec2InstanceId", subjRegisteredAt: "registeredAt",
	subjRunningTasksCount: "runningTasksCount", subjTaskGroup: "task:group",
}

type opKind int

const (
	opEQ opKind = iota
	opNE
	opGT
	opGE
	opLT
	opLE
	opExists
	opNotExists
	opIn
	opNotIn
	opMatch
	opNotMatch
)

var opSymbols = map[opKind]string{
	opEQ: "==", opNE: "!=", opGT: ">", opGE: ">=", opLT: "<", opLE: "<=",
	opExists: "exists", opNotExists: "!exists", opIn: "in", opNotIn: "!in",
	opMatch: "=~", opNotMatch: "!~",
}

var opByText = map[string]opKind{
	"==": opEQ, "equals": opEQ, "!=": opNE, "not_equals": opNE,
	">": opGT, "greater_than": opGT, ">=": opGE, "greater_than_equal": opGE,
	"<": opLT, "less_than": opLT, "<=": opLE, "less_than_equal": opLE,
	"exists": opExists, "!exists": opNotExists, "not_exists": opNotExists,
	"in": opIn, "!in": opNotIn, "not_in": opNotIn,
	"=~": opMatch, "matches": opMatch, "!~": opNotMatch, "not_matches": opNotMatch,
}

// allowedOps lists the operators each subject accepts (attributes take all).
var allowedOps = map[subjectKind][]opKind{
	subjAgentConnected:    {opEQ, opNE, opIn, opNotIn, opMatch, opNotMatch},
	subjAgentVersion:      {opEQ, opNE, opGT, opGE, opLT, opLE},
	subjEC2InstanceID:     {opEQ, opNE, opIn, opNotIn, opMatch, opNotMatch},
	subjRegisteredAt:      {opEQ, opNE, opGT, opGE, opLT, opLE},
	subjRunningTasksCount: {opEQ, opNE, opGT, opGE, opLT, opLE},
	subjTaskGroup:         {opEQ, opNE, opIn, opNotIn, opMatch, opNotMatch},
}

// qCmp is one comparison.
type qCmp struct {
	subj  subjectKind
	attr  string // for subjAttribute
	op    opKind
	vals  []string
	re    *regexp.Regexp // for matches
	times []qtime        // for registeredAt
	nums  []int          // for runningTasksCount
}

type qtime struct {
	t       time.Time
	dayOnly bool
}

func (c *qCmp) write(b *strings.Builder) {
	if c.subj == subjAttribute {
		b.WriteString("attribute:" + c.attr)
	} else {
		b.WriteString(subjectNames[c.subj])
	}
	b.WriteByte(' ')
	b.WriteString(opSymbols[c.op])
	switch c.op {
	case opExists, opNotExists:
	case opIn, opNotIn:
		b.WriteString(" [")
		for i, v := range c.vals {
			if i > 0 {
				b.WriteString(", ")
			}
			writeQueryValue(b, v)
		}
		b.WriteByte(']')
	default:
		b.WriteByte(' ')
		writeQueryValue(b, c.vals[0])
	}
}

func writeQueryValue(b *strings.Builder, v string) {
	bare := v != ""
	for i := 0; i < len(v); i++ {
		if !isWordByte(v[i]) {
			bare = false
			break
		}
	}
	switch {
	case bare:
		b.WriteString(v)
	case !strings.Contains(v, "'"):
		b.WriteString("'" + v + "'")
	default:
		b.WriteString(`"` + v + `"`)
	}
}

func (c *qCmp) eval(e *qenv) bool {
	switch c.op {
	case opNE:
		return !c.holds(e, opEQ)
	case opNotExists:
		return !c.holds(e, opExists)
	case opNotIn:
		return !c.holds(e, opIn)
	case opNotMatch:
		return !c.holds(e, opMatch)
	}
	return c.holds(e, c.op)
}

// holds evaluates a positive operator.
func (c *qCmp) holds(e *qenv, op opKind) bool {
	ci := e.ci
	switch c.subj {
	case subjTaskGroup:
		for _, g := range e.groups {
			if c.test(op, g) {
				return true
			}
		}
		return false
	case subjAttribute:
		v, ok := ci.Attribute(c.attr)
		return ok && c.test(op, v)
	case subjEC2InstanceID:
		return ci.EC2InstanceID != "" && c.test(op, ci.EC2InstanceID)
	case subjAgentConnected:
		return c.test(op, strconv.FormatBool(ci.AgentConnected))
	case subjAgentVersion:
		return ci.VersionInfo.AgentVersion != "" && c.test(op, ci.VersionInfo.AgentVersion)
	case subjRunningTasksCount:
		return compareOp(op, cmpInt(ci.RunningTasksCount, c.nums[0]))
	case subjRegisteredAt:
		if ci.RegisteredAt.IsZero() {
			return false
		}
		return compareOp(op, compareTime(ci.RegisteredAt, c.times[0]))
	}
	return false
}

// test applies a positive operator to one string value of the subject.
func (c *qCmp) test(op opKind, v string) bool {
	switch op {
	case opExists:
		return true
	case opMatch:
		return c.re.MatchString(v)
	case opEQ, opIn:
		for _, want := range c.vals {
			if v == want || (c.subj == subjAgentConnected && strings.EqualFold(v, want)) {
				return true
			}
		}
		return false
	}
	return compareOp(op, compareValues(v, c.vals[0], c.subj == subjAgentVersion))
}

func compareOp(op opKind, cmp int) bool {
	switch op {
	case opEQ:
		return cmp == 0
	case opGT:
		return cmp > 0
	case opGE:
		return cmp >= 0
	case opLT:
		return cmp < 0
	case opLE:
		return cmp <= 0
	}
	return false
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compareTime(t time.Time, q qtime) int {
	if q.dayOnly {
		ty, tm, td := t.UTC().Date()
		day := time.Date(ty, tm, td, 0, 0, 0, 0, time.UTC)
		return day.Compare(q.t)
	}
	return t.Compare(q.t)
}

// compareValues orders two values: numerically when both are numbers, by
// dotted version when asked (or when both look like versions), else as
// strings.
func compareValues(a, b string, version bool) int {
	fa, errA := strconv.ParseFloat(a, 64)
	fb, errB := strconv.ParseFloat(b, 64)
	if errA == nil && errB == nil && !version {
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	if version || (looksLikeVersion(a) && looksLikeVersion(b)) {
		return compareVersions(a, b)
	}
	return strings.Compare(a, b)
}

func looksLikeVersion(s string) bool {
	s = strings.TrimPrefix(s, "v")
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return false
		}
	}
	return true
}

// compareVersions compares dotted versions part by part, numerically where
// both parts are numbers ("1.10.0" > "1.9.2").
func compareVersions(a, b string) int {
	pa := strings.FieldsFunc(strings.TrimPrefix(a, "v"), isVersionSep)
	pb := strings.FieldsFunc(strings.TrimPrefix(b, "v"), isVersionSep)
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y string
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		nx, ex := strconv.Atoi(x)
		ny, ey := strconv.Atoi(y)
		if x == "" {
			nx, ex = 0, nil
		}
		if y == "" {
			ny, ey = 0, nil
		}
		var c int
		if ex == nil && ey == nil {
			c = cmpInt(nx, ny)
		} else {
			c = strings.Compare(x, y)
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func isVersionSep(r rune) bool { return r == '.' || r == '-' || r == '+' }

// ---- parser ----

type qparser struct {
	src      string
	toks     []token
	i        int
	depth    int
	usesTask bool
}

func (p *qparser) peek() token { return p.toks[p.i] }

func (p *qparser) next() token {
	t := p.toks[p.i]
	if t.kind != tkEOF {
		p.i++
	}
	return t
}

func (p *qparser) errAt(pos int, format string, args ...any) error {
	return queryErr(p.src, pos, format, args...)
}

func isKeyword(t token, kw string) bool { return t.kind == tkWord && strings.EqualFold(t.text, kw) }

func (p *qparser) enter(pos int) error {
	p.depth++
	if p.depth > maxQueryDepth {
		return p.errAt(pos, "expression nested too deeply (at most %d levels)", maxQueryDepth)
	}
	return nil
}

func (p *qparser) parseOr() (qnode, error) {
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); t.kind == tkOr || isKeyword(t, "or"); t = p.peek() {
		p.next()
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l = &qOr{l, r}
	}
	return l, nil
}

func (p *qparser) parseAnd() (qnode, error) {
	l, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); t.kind == tkAnd || isKeyword(t, "and"); t = p.peek() {
		p.next()
		r, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		l = &qAnd{l, r}
	}
	return l, nil
}

func (p *qparser) parseUnary() (qnode, error) {
	t := p.peek()
	if t.kind == tkBang || isKeyword(t, "not") {
		p.next()
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		p.depth--
		return &qNot{x}, nil
	}
	return p.parsePrimary()
}

func (p *qparser) parsePrimary() (qnode, error) {
	t := p.next()
	switch t.kind {
	case tkLParen:
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tkRParen {
			return nil, p.errAt(c.pos, "expected ')' to close the '(' at character %d, found %s", t.pos+1, c)
		}
		p.depth--
		return x, nil
	case tkWord:
		return p.parseComparison(t)
	}
	return nil, p.errAt(t.pos, "expected a subject (attribute:<name>, agentConnected, agentVersion, ec2InstanceId, registeredAt, runningTasksCount, task:group), 'not' or '(', found %s", t)
}

func parseSubject(s string) (subjectKind, string, bool) {
	if len(s) >= len("attribute:") && strings.EqualFold(s[:len("attribute:")], "attribute:") {
		name := s[len("attribute:"):]
		return subjAttribute, name, name != ""
	}
	for k, n := range subjectNames {
		if strings.EqualFold(s, n) {
			return k, "", true
		}
	}
	return 0, "", false
}

func (p *qparser) parseComparison(subj token) (qnode, error) {
	kind, attr, ok := parseSubject(subj.text)
	if !ok {
		if strings.HasPrefix(strings.ToLower(subj.text), "attribute:") {
			return nil, p.errAt(subj.pos, "attribute subject needs a name (attribute:<name>)")
		}
		return nil, p.errAt(subj.pos, "unknown subject %q", subj.text)
	}
	if kind == subjTaskGroup {
		p.usesTask = true
	}
	ot := p.next()
	var op opKind
	switch ot.kind {
	case tkOp, tkWord:
		o, known := opByText[strings.ToLower(ot.text)]
		if !known {
			return nil, p.errAt(ot.pos, "expected an operator after %s, found %s", subj.text, ot)
		}
		op = o
	default:
		return nil, p.errAt(ot.pos, "expected an operator after %s, found %s", subj.text, ot)
	}
	if allowed, limited := allowedOps[kind]; limited && !containsOp(allowed, op) {
		return nil, p.errAt(ot.pos, "operator %s is not valid for %s", ot.text, subjectNames[kind])
	}
	c := &qCmp{subj: kind, attr: attr, op: op}
	switch op {
	case opExists, opNotExists:
		return c, nil
	case opIn, opNotIn:
		vals, err := p.parseList()
		if err != nil {
			return nil, err
		}
		c.vals = vals
	default:
		vt := p.next()
		if vt.kind != tkWord && vt.kind != tkString {
			return nil, p.errAt(vt.pos, "expected a value after %s, found %s", ot.text, vt)
		}
		c.vals = []string{vt.text}
	}
	if err := p.checkValues(c, ot); err != nil {
		return nil, err
	}
	return c, nil
}

func containsOp(ops []opKind, op opKind) bool {
	for _, o := range ops {
		if o == op {
			return true
		}
	}
	return false
}

// parseList parses "[v, v, ...]" or a single value.
func (p *qparser) parseList() ([]string, error) {
	t := p.next()
	switch t.kind {
	case tkWord, tkString:
		return []string{t.text}, nil
	case tkLBrack:
	default:
		return nil, p.errAt(t.pos, "expected a list of values [a, b, ...], found %s", t)
	}
	var vals []string
	for {
		v := p.next()
		if v.kind != tkWord && v.kind != tkString {
			return nil, p.errAt(v.pos, "expected a value in the list, found %s", v)
		}
		vals = append(vals, v.text)
		sep := p.next()
		switch sep.kind {
		case tkComma:
			continue
		case tkRBrack:
			return vals, nil
		}
		return nil, p.errAt(sep.pos, "expected ',' or ']' in the list, found %s", sep)
	}
}

// checkValues validates (and pre-parses) a comparison's values.
func (p *qparser) checkValues(c *qCmp, ot token) error {
	if c.op == opMatch || c.op == opNotMatch {
		re, err := regexp.Compile("^(?:" + c.vals[0] + ")$")
		if err != nil {
			return p.errAt(ot.pos, "invalid pattern %q", c.vals[0])
		}
		c.re = re
		return nil
	}
	switch c.subj {
	case subjAgentConnected:
		for _, v := range c.vals {
			if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
				return p.errAt(ot.pos, "agentConnected compares with true or false, not %q", v)
			}
		}
	case subjRunningTasksCount:
		n, err := strconv.Atoi(c.vals[0])
		if err != nil || n < 0 {
			return p.errAt(ot.pos, "runningTasksCount compares with a non-negative integer, not %q", c.vals[0])
		}
		c.nums = []int{n}
	case subjRegisteredAt:
		t, ok := parseQueryTime(c.vals[0])
		if !ok {
			return p.errAt(ot.pos, "registeredAt compares with a date such as 2018-06-18T22:28:28+00:00, 2018-06-18T22:28:28Z, 2018-06-18T22:28:28 or 2018-06-18, not %q", c.vals[0])
		}
		c.times = []qtime{t}
	}
	return nil
}

func parseQueryTime(s string) (qtime, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return qtime{t: t}, true
	}
	if t, err := time.Parse("2006-01-02T15:04:05", s); err == nil {
		return qtime{t: t}, true
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return qtime{t: t, dayOnly: true}, true
	}
	return qtime{}, false
}
