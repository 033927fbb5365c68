package cw

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Metric math over time series on one period grid. A Series holds one
// value per grid slot (NaN = no datapoint). Supported: numbers, query ids,
// + - * / (element-wise, series with scalar or series), comparisons
// (> < >= <= == !=, 1 or 0), parentheses, METRICS() and METRICS("id
// prefix"), SUM AVG MIN MAX (of an array: per slot across series, of one
// series: one value), ABS, FILL(x, value|REPEAT), IF(cond, a[, b]).

// Series is one time series on the grid.
type Series struct {
	// Metric marks the series of a metric query (METRICS() returns only
	// these, not other expressions).
	Metric bool
	ID     string
	Label  string
	Values []float64 // NaN for a missing datapoint
}

// mval is an expression's value: a scalar or an array of series.
type mval struct {
	scalar   float64
	isScalar bool
	series   []Series
}

// EvalExpression evaluates expr over the series of the other queries (by
// ID, in query order) on a grid of n slots.
func EvalExpression(expr string, vars []Series, n int) ([]Series, error) {
	p := &parser{toks: tokenize(expr), vars: vars, n: n}
	if len(p.toks) == 0 {
		return nil, Invalidf("The expression is empty.")
	}
	v, err := p.compare()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, Invalidf("Syntax error in expression %q near %q.", expr, p.toks[p.pos])
	}
	if v.isScalar {
		return []Series{constant(v.scalar, n)}, nil
	}
	return v.series, nil
}

func constant(x float64, n int) Series {
	s := Series{Values: make([]float64, n)}
	for i := range s.Values {
		s.Values[i] = x
	}
	return s
}

func tokenize(s string) []string {
	var out []string
	i := 0
	for i < len(s) {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				out = append(out, s[i:])
				return out
			}
			out = append(out, s[i:i+j+2])
			i += j + 2
		case unicode.IsDigit(c) || c == '.':
			j := i
			for j < len(s) && (unicode.IsDigit(rune(s[j])) || s[j] == '.' || s[j] == 'e' || s[j] == 'E') {
				j++
			}
			out = append(out, s[i:j])
			i = j
		case unicode.IsLetter(c) || c == '_':
			j := i
			for j < len(s) && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])) || s[j] == '_') {
				j++
			}
			out = append(out, s[i:j])
			i = j
		case strings.ContainsRune("<>=!", c) && i+1 < len(s) && s[i+1] == '=':
			out = append(out, s[i:i+2])
			i += 2
		default:
			out = append(out, string(c))
			i++
		}
	}
	return out
}

type parser struct {
	toks []string
	pos  int
	vars []Series
	n    int
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *parser) expect(t string) error {
	if p.peek() != t {
		return Invalidf("Syntax error in expression: expected %q, found %q.", t, p.peek())
	}
	p.pos++
	return nil
}

func (p *parser) compare() (mval, error) {
	l, err := p.sum()
	if err != nil {
		return l, err
	}
	for {
		op := p.peek()
		switch op {
		case ">", "<", ">=", "<=", "==", "!=":
		default:
			return l, nil
		}
		p.pos++
		r, err := p.sum()
		if err != nil {
			return r, err
		}
		l = p.binary(l, r, func(a, b float64) float64 { return b2f(cmpOp(op, a, b)) })
	}
}

func cmpOp(op string, a, b float64) bool {
	switch op {
	case ">":
		return a > b
	case "<":
		return a < b
	case ">=":
		return a >= b
	case "<=":
		return a <= b
	case "==":
		return a == b
	}
	return a != b
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (p *parser) sum() (mval, error) {
	l, err := p.product()
	if err != nil {
		return l, err
	}
	for p.peek() == "+" || p.peek() == "-" {
		op := p.toks[p.pos]
		p.pos++
		r, err := p.product()
		if err != nil {
			return r, err
		}
		if op == "+" {
			l = p.binary(l, r, func(a, b float64) float64 { return a + b })
		} else {
			l = p.binary(l, r, func(a, b float64) float64 { return a - b })
		}
	}
	return l, nil
}

func (p *parser) product() (mval, error) {
	l, err := p.unary()
	if err != nil {
		return l, err
	}
	for p.peek() == "*" || p.peek() == "/" {
		op := p.toks[p.pos]
		p.pos++
		r, err := p.unary()
		if err != nil {
			return r, err
		}
		if op == "*" {
			l = p.binary(l, r, func(a, b float64) float64 { return a * b })
		} else {
			l = p.binary(l, r, func(a, b float64) float64 {
				if b == 0 {
					return math.NaN() // CloudWatch drops datapoints that divide by zero
				}
				return a / b
			})
		}
	}
	return l, nil
}

func (p *parser) unary() (mval, error) {
	if p.peek() == "-" {
		p.pos++
		v, err := p.unary()
		if err != nil {
			return v, err
		}
		return p.binary(mval{scalar: 0, isScalar: true}, v, func(a, b float64) float64 { return a - b }), nil
	}
	return p.primary()
}

func (p *parser) primary() (mval, error) {
	t := p.peek()
	if t == "" {
		return mval{}, Invalidf("Syntax error in expression: unexpected end.")
	}
	p.pos++
	if t == "[" {
		var arr mval
		for p.peek() != "]" {
			if len(arr.series) > 0 {
				if err := p.expect(","); err != nil {
					return arr, err
				}
			}
			v, err := p.compare()
			if err != nil {
				return v, err
			}
			if v.isScalar {
				v = mval{series: []Series{constant(v.scalar, p.n)}}
			}
			arr.series = append(arr.series, v.series...)
		}
		p.pos++
		return arr, nil
	}
	if t == "(" {
		v, err := p.compare()
		if err != nil {
			return v, err
		}
		return v, p.expect(")")
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil {
		return mval{scalar: f, isScalar: true}, nil
	}
	if p.peek() == "(" {
		return p.call(strings.ToUpper(t))
	}
	for _, s := range p.vars {
		if s.ID == t {
			return mval{series: []Series{s}}, nil
		}
	}
	return mval{}, Invalidf("The expression refers to %q, which is not the Id of another query.", t)
}

func (p *parser) args() ([]mval, []string, error) {
	if err := p.expect("("); err != nil {
		return nil, nil, err
	}
	var vals []mval
	var raw []string
	for p.peek() != ")" {
		if len(vals) > 0 {
			if err := p.expect(","); err != nil {
				return nil, nil, err
			}
		}
		t := p.peek()
		if strings.HasPrefix(t, "\"") || strings.EqualFold(t, "REPEAT") || strings.EqualFold(t, "LINEAR") {
			p.pos++
			raw = append(raw, strings.Trim(t, "\""))
			vals = append(vals, mval{})
			continue
		}
		v, err := p.compare()
		if err != nil {
			return nil, nil, err
		}
		vals = append(vals, v)
		raw = append(raw, "")
	}
	p.pos++
	return vals, raw, nil
}

func (p *parser) call(fn string) (mval, error) {
	args, raw, err := p.args()
	if err != nil {
		return mval{}, err
	}
	switch fn {
	case "METRICS":
		prefix := ""
		if len(raw) > 0 {
			prefix = raw[0]
		}
		var out []Series
		for _, s := range p.vars {
			if s.Metric && strings.HasPrefix(s.ID, prefix) {
				out = append(out, s)
			}
		}
		return mval{series: out}, nil
	case "SUM", "AVG", "MIN", "MAX":
		if len(args) != 1 || args[0].isScalar {
			return mval{}, Invalidf("%s takes one argument, a time series or an array of time series.", fn)
		}
		return p.reduce(fn, args[0].series), nil
	case "ABS":
		if len(args) != 1 {
			return mval{}, Invalidf("ABS takes one argument.")
		}
		return p.binary(args[0], mval{isScalar: true}, func(a, _ float64) float64 { return math.Abs(a) }), nil
	case "FILL":
		if len(args) != 2 || args[0].isScalar {
			return mval{}, Invalidf("FILL takes a time series and a value or REPEAT.")
		}
		return fill(args[0], args[1], strings.ToUpper(raw[1])), nil
	case "IF":
		if len(args) < 2 || len(args) > 3 {
			return mval{}, Invalidf("IF takes a condition, a value if true and optionally a value if false.")
		}
		other := mval{scalar: math.NaN(), isScalar: true}
		if len(args) == 3 {
			other = args[2]
		}
		return p.ifThen(args[0], args[1], other), nil
	}
	return mval{}, Invalidf("The function %s is not supported.", fn)
}

// reduce applies fn across an array (per slot) or, for one series, across
// its datapoints (one value on every slot, as CloudWatch draws it).
func (p *parser) reduce(fn string, ss []Series) mval {
	out := Series{Values: make([]float64, p.n)}
	if len(ss) == 1 {
		v := fold(fn, ss[0].Values)
		for i := range out.Values {
			out.Values[i] = v
		}
		out.ID, out.Label = ss[0].ID, ss[0].Label
		return mval{series: []Series{out}}
	}
	col := make([]float64, len(ss))
	for i := 0; i < p.n; i++ {
		for k, s := range ss {
			col[k] = s.Values[i]
		}
		out.Values[i] = fold(fn, col)
	}
	return mval{series: []Series{out}}
}

func fold(fn string, xs []float64) float64 {
	n, acc := 0, 0.0
	for _, x := range xs {
		if math.IsNaN(x) {
			continue
		}
		switch {
		case n == 0:
			acc = x
		case fn == "SUM" || fn == "AVG":
			acc += x
		case fn == "MIN":
			acc = math.Min(acc, x)
		case fn == "MAX":
			acc = math.Max(acc, x)
		}
		n++
	}
	if n == 0 {
		return math.NaN()
	}
	if fn == "AVG" {
		return acc / float64(n)
	}
	return acc
}

func fill(x, with mval, mode string) mval {
	out := make([]Series, len(x.series))
	for k, s := range x.series {
		vals := append([]float64(nil), s.Values...)
		last := math.NaN()
		for i, v := range vals {
			switch {
			case !math.IsNaN(v):
				last = v
			case mode == "REPEAT":
				vals[i] = last
			case with.isScalar:
				vals[i] = with.scalar
			case len(with.series) > 0:
				vals[i] = with.series[0].Values[i]
			}
		}
		out[k] = Series{ID: s.ID, Label: s.Label, Values: vals}
	}
	return mval{series: out}
}

func (p *parser) ifThen(cond, a, b mval) mval {
	at := func(v mval, k, i int) float64 {
		if v.isScalar {
			return v.scalar
		}
		if k >= len(v.series) {
			k = len(v.series) - 1
		}
		if k < 0 {
			return math.NaN()
		}
		return v.series[k].Values[i]
	}
	n := max(len(cond.series), 1)
	out := make([]Series, n)
	for k := range out {
		vals := make([]float64, p.n)
		for i := range vals {
			c := at(cond, k, i)
			switch {
			case math.IsNaN(c):
				vals[i] = math.NaN()
			case c != 0:
				vals[i] = at(a, k, i)
			default:
				vals[i] = at(b, k, i)
			}
		}
		out[k] = Series{Values: vals}
	}
	return mval{series: out}
}

// binary applies f element-wise: scalar with scalar, series with scalar,
// or array with array (pairwise; one series broadcasts).
func (p *parser) binary(l, r mval, f func(a, b float64) float64) mval {
	if l.isScalar && r.isScalar {
		return mval{scalar: f(l.scalar, r.scalar), isScalar: true}
	}
	n := max(len(l.series), len(r.series))
	if (!l.isScalar && len(l.series) == 0) || (!r.isScalar && len(r.series) == 0) {
		return mval{}
	}
	at := func(v mval, k, i int) float64 {
		if v.isScalar {
			return v.scalar
		}
		if len(v.series) == 1 {
			k = 0
		}
		if k >= len(v.series) {
			return math.NaN()
		}
		return v.series[k].Values[i]
	}
	out := make([]Series, n)
	for k := range out {
		vals := make([]float64, p.n)
		for i := range vals {
			a, b := at(l, k, i), at(r, k, i)
			if math.IsNaN(a) || math.IsNaN(b) {
				vals[i] = math.NaN()
				continue
			}
			vals[i] = f(a, b)
		}
		out[k] = Series{Values: vals}
		if !l.isScalar && len(l.series) > k && r.isScalar {
			out[k].ID, out[k].Label = l.series[k].ID, l.series[k].Label
		}
	}
	return mval{series: out}
}

// String renders a value for debugging.
func (v mval) String() string {
	if v.isScalar {
		return fmt.Sprint(v.scalar)
	}
	return fmt.Sprintf("%d series", len(v.series))
}
