package logs

import (
	"encoding/json"
	"strconv"
	"strings"
)

// jsonExpr is a node of a JSON selector expression.
type jsonExpr interface {
	eval(doc any) bool
}

type jsonPattern struct{ root jsonExpr }

func (p *jsonPattern) Match(msg string) bool {
	s := strings.TrimSpace(msg)
	if !strings.HasPrefix(s, "{") && !strings.HasPrefix(s, "[") {
		return false
	}
	var doc any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if dec.Decode(&doc) != nil {
		return false
	}
	return p.root.eval(doc)
}

type jsonOr struct{ l, r jsonExpr }

func (e jsonOr) eval(d any) bool { return e.l.eval(d) || e.r.eval(d) }

type jsonAnd struct{ l, r jsonExpr }

func (e jsonAnd) eval(d any) bool { return e.l.eval(d) && e.r.eval(d) }

// step is one selector step: a member name or an array index.
type step struct {
	key   string
	index int
	isIdx bool
}

type jsonCmp struct {
	sel    []step
	op     op
	lit    literal
	exists int // 1: EXISTS, -1: NOT EXISTS, 2: IS NULL
}

func (e jsonCmp) eval(doc any) bool {
	v, ok := selectPath(doc, e.sel)
	switch e.exists {
	case 1:
		return ok
	case -1:
		return !ok
	case 2:
		return ok && v == nil
	}
	if !ok {
		return false
	}
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return false
		}
		if e.lit.isNum {
			return compareNum(f, e.op, e.lit.num)
		}
		return compareString(x.String(), e.op, e.lit)
	case string:
		if e.lit.isNum && !e.lit.quoted {
			return false
		}
		lit := e.lit
		lit.isNum = false
		return compareString(x, e.op, lit)
	case bool:
		return compareString(strconv.FormatBool(x), e.op, e.lit)
	case nil:
		return e.op == opNe
	}
	// Objects and arrays compare only with '*' (any value).
	return e.op == opEq && e.lit.str == "*"
}

func selectPath(doc any, sel []step) (any, bool) {
	cur := doc
	for _, s := range sel {
		if s.isIdx {
			arr, ok := cur.([]any)
			if !ok || s.index >= len(arr) {
				return nil, false
			}
			cur = arr[s.index]
			continue
		}
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[s.key]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func parseJSONPattern(s string) (Pattern, error) {
	l := &lexer{s: s}
	if !l.accept("{") {
		return nil, errf("a JSON pattern starts with '{'")
	}
	e, err := parseJSONOr(l)
	if err != nil {
		return nil, err
	}
	if !l.accept("}") {
		return nil, errf("expected '}' at offset %d", l.pos)
	}
	if l.skip(); l.pos != len(l.s) {
		return nil, errf("unexpected text after '}' at offset %d", l.pos)
	}
	return &jsonPattern{root: e}, nil
}

func parseJSONOr(l *lexer) (jsonExpr, error) {
	left, err := parseJSONAnd(l)
	if err != nil {
		return nil, err
	}
	for l.accept("||") {
		right, err := parseJSONAnd(l)
		if err != nil {
			return nil, err
		}
		left = jsonOr{left, right}
	}
	return left, nil
}

func parseJSONAnd(l *lexer) (jsonExpr, error) {
	left, err := parseJSONUnary(l)
	if err != nil {
		return nil, err
	}
	for l.accept("&&") {
		right, err := parseJSONUnary(l)
		if err != nil {
			return nil, err
		}
		left = jsonAnd{left, right}
	}
	return left, nil
}

func parseJSONUnary(l *lexer) (jsonExpr, error) {
	if l.accept("(") {
		e, err := parseJSONOr(l)
		if err != nil {
			return nil, err
		}
		if !l.accept(")") {
			return nil, errf("expected ')' at offset %d", l.pos)
		}
		return e, nil
	}
	sel, err := parseSelector(l)
	if err != nil {
		return nil, err
	}
	switch {
	case l.accept("IS NULL"):
		return jsonCmp{sel: sel, exists: 2}, nil
	case l.accept("NOT EXISTS"):
		return jsonCmp{sel: sel, exists: -1}, nil
	case l.accept("EXISTS"):
		return jsonCmp{sel: sel, exists: 1}, nil
	}
	o, ok := l.op()
	if !ok {
		return nil, errf("expected a comparison operator at offset %d", l.pos)
	}
	lit, err := l.literal()
	if err != nil {
		return nil, err
	}
	return jsonCmp{sel: sel, op: o, lit: lit}, nil
}

func parseSelector(l *lexer) ([]step, error) {
	if !l.accept("$") {
		return nil, errf("expected a selector starting with '$' at offset %d", l.pos)
	}
	var sel []step
	for l.pos < len(l.s) {
		switch l.s[l.pos] {
		case '.':
			l.pos++
			start := l.pos
			for l.pos < len(l.s) && (isWord(l.s[l.pos])) {
				l.pos++
			}
			if start == l.pos {
				return nil, errf("a member name is missing after '.' at offset %d", start)
			}
			sel = append(sel, step{key: l.s[start:l.pos]})
		case '[':
			end := strings.IndexByte(l.s[l.pos:], ']')
			if end < 0 {
				return nil, errf("unterminated '[' at offset %d", l.pos)
			}
			n, err := strconv.Atoi(l.s[l.pos+1 : l.pos+end])
			if err != nil || n < 0 {
				return nil, errf("array index must be a number at offset %d", l.pos)
			}
			sel = append(sel, step{index: n, isIdx: true})
			l.pos += end + 1
		default:
			if len(sel) == 0 {
				return nil, errf("selector '$' must name a member")
			}
			return sel, nil
		}
	}
	return sel, nil
}

func isWord(c byte) bool {
	return c == '_' || c == '-' || c == '@' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
