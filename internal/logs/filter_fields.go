package logs

import "strings"

// fieldsPattern is a space-delimited pattern: "[ip, user, ..., status = 4*, bytes > 1000]".
type fieldsPattern struct {
	fields []fieldSpec
}

// fieldSpec is one field of the pattern: "..." (any number of fields) or
// a name with an optional condition.
type fieldSpec struct {
	ellipsis bool
	name     string
	cond     fieldExpr // nil: any value
}

type fieldExpr interface{ eval(v string) bool }

type fieldOr struct{ l, r fieldExpr }

func (e fieldOr) eval(v string) bool { return e.l.eval(v) || e.r.eval(v) }

type fieldAnd struct{ l, r fieldExpr }

func (e fieldAnd) eval(v string) bool { return e.l.eval(v) && e.r.eval(v) }

type fieldCmp struct {
	op  op
	lit literal
}

func (e fieldCmp) eval(v string) bool { return compareString(v, e.op, e.lit) }

func (p *fieldsPattern) Match(msg string) bool {
	return matchFields(p.fields, splitFields(msg))
}

func matchFields(specs []fieldSpec, vals []string) bool {
	for i, f := range specs {
		if f.ellipsis {
			for k := 0; k <= len(vals); k++ {
				if matchFields(specs[i+1:], vals[k:]) {
					return true
				}
			}
			return false
		}
		if len(vals) == 0 {
			return false
		}
		if f.cond != nil && !f.cond.eval(vals[0]) {
			return false
		}
		vals = vals[1:]
	}
	return len(vals) == 0
}

// splitFields splits a message on spaces; text in double quotes or square
// brackets is one field (without its delimiters).
func splitFields(msg string) []string {
	var out []string
	for i := 0; i < len(msg); {
		switch c := msg[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '"' || c == '[':
			closer := byte('"')
			if c == '[' {
				closer = ']'
			}
			end := strings.IndexByte(msg[i+1:], closer)
			if end < 0 {
				out = append(out, msg[i+1:])
				return out
			}
			out = append(out, msg[i+1:i+1+end])
			i += end + 2
		default:
			j := i
			for j < len(msg) && msg[j] != ' ' && msg[j] != '\t' {
				j++
			}
			out = append(out, msg[i:j])
			i = j
		}
	}
	return out
}

func parseFieldsPattern(s string) (Pattern, error) {
	if !strings.HasSuffix(s, "]") {
		return nil, errf("a space-delimited pattern ends with ']'")
	}
	body := s[1 : len(s)-1]
	p := &fieldsPattern{}
	for part := range strings.SplitSeq(body, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, errf("empty field")
		}
		if part == "..." {
			p.fields = append(p.fields, fieldSpec{ellipsis: true})
			continue
		}
		l := &lexer{s: part}
		name, cond, err := parseFieldCond(l)
		if err != nil {
			return nil, err
		}
		p.fields = append(p.fields, fieldSpec{name: name, cond: cond})
	}
	return p, nil
}

// parseFieldCond parses "name" or "name op value" joined by && and ||.
func parseFieldCond(l *lexer) (string, fieldExpr, error) {
	name, left, err := parseFieldCmp(l, "")
	if err != nil || left == nil {
		return name, nil, err
	}
	for {
		var join string
		switch {
		case l.accept("&&"):
			join = "&&"
		case l.accept("||"):
			join = "||"
		default:
			if l.skip(); l.pos != len(l.s) {
				return "", nil, errf("unexpected text in field '%s'", l.s)
			}
			return name, left, nil
		}
		_, right, err := parseFieldCmp(l, name)
		if err != nil {
			return "", nil, err
		}
		if right == nil {
			return "", nil, errf("a condition is missing after '%s' in field '%s'", join, l.s)
		}
		if join == "&&" {
			left = fieldAnd{left, right}
		} else {
			left = fieldOr{left, right}
		}
	}
}

func parseFieldCmp(l *lexer, want string) (string, fieldExpr, error) {
	l.skip()
	start := l.pos
	for l.pos < len(l.s) && isWord(l.s[l.pos]) {
		l.pos++
	}
	name := l.s[start:l.pos]
	if name == "" {
		return "", nil, errf("a field name is missing in '%s'", l.s)
	}
	if want != "" && name != want {
		return "", nil, errf("a condition of field '%s' names field '%s'", want, name)
	}
	if l.skip(); l.pos == len(l.s) {
		return name, nil, nil
	}
	o, ok := l.op()
	if !ok {
		return "", nil, errf("expected a comparison operator in field '%s'", l.s)
	}
	lit, err := l.literal()
	if err != nil {
		return "", nil, err
	}
	return name, fieldCmp{op: o, lit: lit}, nil
}
