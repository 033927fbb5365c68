package logs

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

var sprintf = fmt.Sprintf

// op is a comparison operator of JSON and field patterns.
type op string

const (
	opEq op = "="
	opNe op = "!="
	opLt op = "<"
	opLe op = "<="
	opGt op = ">"
	opGe op = ">="
)

// literal is the right-hand side of a comparison.
type literal struct {
	str    string
	num    float64
	isNum  bool
	quoted bool
}

// compareString compares an observed text value with a literal: numbers
// numerically when both parse, otherwise = and != as (wildcard) equality.
func compareString(got string, o op, lit literal) bool {
	if lit.isNum {
		if f, err := strconv.ParseFloat(got, 64); err == nil {
			return compareNum(f, o, lit.num)
		}
		if o != opEq && o != opNe {
			return false
		}
	}
	switch o {
	case opEq:
		return wildEqual(lit.str, got)
	case opNe:
		return !wildEqual(lit.str, got)
	}
	return false
}

func compareNum(a float64, o op, b float64) bool {
	switch o {
	case opEq:
		return a == b
	case opNe:
		return a != b
	case opLt:
		return a < b
	case opLe:
		return a <= b
	case opGt:
		return a > b
	case opGe:
		return a >= b
	}
	return false
}

// wildEqual matches s against pattern where '*' is any run of characters.
func wildEqual(pattern, s string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == s
	}
	// path.Match treats '/', '?', '[' and '\' specially; escape them.
	var b strings.Builder
	for _, r := range pattern {
		switch r {
		case '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	if strings.Contains(s, "/") {
		// '*' in path.Match stops at '/': compare segment-free.
		return wildSimple(pattern, s)
	}
	ok, err := path.Match(b.String(), s)
	return err == nil && ok
}

// wildSimple is a '*'-only glob matcher.
func wildSimple(p, s string) bool {
	parts := strings.Split(p, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i := 1; i < len(parts)-1; i++ {
		k := strings.Index(s, parts[i])
		if k < 0 {
			return false
		}
		s = s[k+len(parts[i]):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// lexer splits a JSON or field pattern into tokens.
type lexer struct {
	s   string
	pos int
}

func (l *lexer) skip() {
	for l.pos < len(l.s) && (l.s[l.pos] == ' ' || l.s[l.pos] == '\t' || l.s[l.pos] == '\n') {
		l.pos++
	}
}

func (l *lexer) peek(tok string) bool {
	l.skip()
	return strings.HasPrefix(l.s[l.pos:], tok)
}

func (l *lexer) accept(tok string) bool {
	if l.peek(tok) {
		l.pos += len(tok)
		return true
	}
	return false
}

func (l *lexer) op() (op, bool) {
	for _, o := range []op{opNe, opLe, opGe, opEq, opLt, opGt} {
		if l.accept(string(o)) {
			return o, true
		}
	}
	return "", false
}

// literal reads a quoted string, a number or a bare word.
func (l *lexer) literal() (literal, error) {
	l.skip()
	if l.pos >= len(l.s) {
		return literal{}, errf("a value is missing at the end")
	}
	if l.s[l.pos] == '"' {
		end := strings.IndexByte(l.s[l.pos+1:], '"')
		if end < 0 {
			return literal{}, errf("unterminated string")
		}
		v := l.s[l.pos+1 : l.pos+1+end]
		l.pos += end + 2
		return literal{str: v, quoted: true}, nil
	}
	start := l.pos
	for l.pos < len(l.s) && !strings.ContainsRune(" \t\n)}],&|", rune(l.s[l.pos])) {
		l.pos++
	}
	v := l.s[start:l.pos]
	if v == "" {
		return literal{}, errf("a value is missing at offset %d", start)
	}
	lit := literal{str: v}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		lit.num, lit.isNum = f, true
	}
	return lit, nil
}
