package cw

import (
	"fmt"
	"strings"
	"unicode"
)

// MaxRuleLength and MaxRuleAlarms bound a composite alarm's AlarmRule:
// 10240 characters and 100 distinct alarms.
const (
	MaxRuleLength = 10240
	MaxRuleAlarms = 100
)

// Rule is a parsed composite alarm rule: the functions ALARM(x), OK(x)
// and INSUFFICIENT_DATA(x) of other alarms (by name or ARN, quoted or
// not), TRUE and FALSE, combined with NOT, AND and OR (in that order of
// precedence) and parentheses.
type Rule struct {
	root ruleNode
	refs []string
}

// Refs are the alarms the rule names (names or ARNs as written), each
// once, in order of appearance.
func (r *Rule) Refs() []string { return r.refs }

// Eval evaluates the rule with state giving each named alarm's state
// ("" for an alarm that does not exist, which no function matches).
func (r *Rule) Eval(state func(ref string) string) bool { return r.root.eval(state) }

// Matching returns the refs whose function in the rule is true (want
// true) or false (want false) with the given states: the alarms that
// hold the composite in its state.
func (r *Rule) Matching(state func(ref string) string, want bool) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(n ruleNode)
	walk = func(n ruleNode) {
		switch n := n.(type) {
		case *fnNode:
			if n.eval(state) == want && !seen[n.ref] {
				seen[n.ref] = true
				out = append(out, n.ref)
			}
		case *notNode:
			walk(n.x)
		case *binNode:
			walk(n.l)
			walk(n.r)
		}
	}
	walk(r.root)
	return out
}

type ruleNode interface {
	eval(state func(string) string) bool
}

type constNode bool

func (c constNode) eval(func(string) string) bool { return bool(c) }

type fnNode struct{ want, ref string }

func (f *fnNode) eval(state func(string) string) bool { return state(f.ref) == f.want }

type notNode struct{ x ruleNode }

func (n *notNode) eval(state func(string) string) bool { return !n.x.eval(state) }

type binNode struct {
	and  bool
	l, r ruleNode
}

func (b *binNode) eval(state func(string) string) bool {
	if b.and {
		return b.l.eval(state) && b.r.eval(state)
	}
	return b.l.eval(state) || b.r.eval(state)
}

type ruleToken struct {
	text   string // the token as written ("" at the end)
	name   string // an alarm name (quoted names unquoted)
	quoted bool
	at     int
}

// RuleError is a syntax error in an AlarmRule, worded as CloudWatch's
// ValidationError ("Error in AlarmRule [Unsupported token ')' at char 1]").
type RuleError struct {
	Token string
	At    int
	Want  string
}

func (e *RuleError) Error() string {
	if e.Want != "" {
		return fmt.Sprintf("Error in AlarmRule [Unsupported token '%s' at char %d, must be: '%s']", e.Token, e.At, e.Want)
	}
	return fmt.Sprintf("Error in AlarmRule [Unsupported token '%s' at char %d]", e.Token, e.At)
}

func lexRule(s string) ([]ruleToken, error) {
	var out []ruleToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			out = append(out, ruleToken{text: string(c), at: i})
			i++
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, &RuleError{Token: s[i:], At: i}
			}
			out = append(out, ruleToken{text: s[i : i+j+2], name: s[i+1 : i+1+j], quoted: true, at: i})
			i += j + 2
		default:
			j := i
			for j < len(s) && !unicode.IsSpace(rune(s[j])) && s[j] != '(' && s[j] != ')' && s[j] != '"' {
				j++
			}
			out = append(out, ruleToken{text: s[i:j], name: s[i:j], at: i})
			i = j
		}
	}
	return out, nil
}

type ruleParser struct {
	toks []ruleToken
	pos  int
	end  int
	refs map[string]bool
	rule *Rule
}

func (p *ruleParser) peek() ruleToken {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ruleToken{at: p.end}
}

func (p *ruleParser) bad(want string) error {
	t := p.peek()
	return &RuleError{Token: t.text, At: t.at, Want: want}
}

// ParseRule parses an AlarmRule.
func ParseRule(s string) (*Rule, error) {
	toks, err := lexRule(s)
	if err != nil {
		return nil, err
	}
	p := &ruleParser{toks: toks, end: len(s), refs: map[string]bool{}, rule: &Rule{}}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, p.bad("")
	}
	p.rule.root = root
	return p.rule, nil
}

func (p *ruleParser) or() (ruleNode, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); !t.quoted && t.text == "OR"; t = p.peek() {
		p.pos++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &binNode{l: l, r: r}
	}
	return l, nil
}

func (p *ruleParser) and() (ruleNode, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); !t.quoted && t.text == "AND"; t = p.peek() {
		p.pos++
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &binNode{and: true, l: l, r: r}
	}
	return l, nil
}

func (p *ruleParser) unary() (ruleNode, error) {
	t := p.peek()
	if t.quoted {
		return nil, p.bad("")
	}
	switch t.text {
	case "NOT":
		p.pos++
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &notNode{x: x}, nil
	case "TRUE", "FALSE":
		p.pos++
		return constNode(t.text == "TRUE"), nil
	case "(":
		p.pos++
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek().text != ")" || p.peek().quoted {
			return nil, p.bad(")")
		}
		p.pos++
		return x, nil
	case StateAlarm, StateOK, StateInsufficient:
		p.pos++
		if p.peek().text != "(" {
			return nil, p.bad("(")
		}
		p.pos++
		n := p.peek()
		if n.name == "" || (!n.quoted && (n.text == "(" || n.text == ")")) {
			return nil, p.bad("")
		}
		p.pos++
		if p.peek().text != ")" || p.peek().quoted {
			return nil, p.bad(")")
		}
		p.pos++
		if !p.refs[n.name] {
			p.refs[n.name] = true
			p.rule.refs = append(p.rule.refs, n.name)
		}
		return &fnNode{want: t.text, ref: n.name}, nil
	}
	return nil, p.bad("")
}
