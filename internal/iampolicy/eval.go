package iampolicy

import (
	"net"
	"strconv"
	"strings"
)

// Decision is the outcome of evaluating a request.
type Decision int

const (
	// NotAllowed: no statement allows the request (an implicit deny).
	NotAllowed Decision = iota
	// Allowed: a statement allows it and none denies it.
	Allowed
	// Denied: a statement explicitly denies it.
	Denied
)

func (d Decision) String() string {
	return [...]string{"NotAllowed", "Allowed", "Denied"}[d]
}

// Request is what a policy is asked about.
type Request struct {
	Action   string // "ecs:RunTask"
	Resource string // an ARN, or "*"
	// Principal is the caller for trust policies: type → identifiers
	// ({"AWS": {"arn:aws:iam::123:user/alice", "123"}} or
	// {"Service": {"ecs-tasks.amazonaws.com"}}).
	Principal map[string][]string
	// Context holds the condition keys ("aws:PrincipalArn", ...); keys are
	// matched case-insensitively (give them in lower case or any case).
	Context map[string][]string
}

// Evaluate evaluates req against docs together: an explicit Deny in any
// statement wins, else any Allow allows, else NotAllowed.
func Evaluate(req Request, docs ...*Document) Decision {
	ctx := make(map[string][]string, len(req.Context))
	for k, v := range req.Context {
		ctx[strings.ToLower(k)] = v
	}
	out := NotAllowed
	for _, d := range docs {
		if d == nil {
			continue
		}
		for i := range d.Statements {
			s := &d.Statements[i]
			if !s.matches(req, ctx) {
				continue
			}
			if s.Effect == "Deny" {
				return Denied
			}
			out = Allowed
		}
	}
	return out
}

func (s *Statement) matches(req Request, ctx map[string][]string) bool {
	if s.Actions != nil && !anyMatch(s.Actions, req.Action, true) {
		return false
	}
	if s.NotActions != nil && anyMatch(s.NotActions, req.Action, true) {
		return false
	}
	if s.Resources != nil && !anyMatch(s.Resources, req.Resource, false) {
		return false
	}
	if s.NotResource != nil && anyMatch(s.NotResource, req.Resource, false) {
		return false
	}
	if s.Principals != nil && !principalMatch(s.Principals, req.Principal) {
		return false
	}
	if s.NotPrincipals != nil && principalMatch(s.NotPrincipals, req.Principal) {
		return false
	}
	for op, keys := range s.Conditions {
		for key, vals := range keys {
			if !condition(op, vals, ctx[strings.ToLower(key)]) {
				return false
			}
		}
	}
	return true
}

func anyMatch(patterns []string, value string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			if Match(strings.ToLower(p), strings.ToLower(value)) {
				return true
			}
		} else if Match(p, value) {
			return true
		}
	}
	return false
}

// principalMatch reports whether the caller is one of the principals.
// "*" (alone or as the AWS value) matches everyone; an account ID or its
// root ARN matches every principal of that account.
func principalMatch(want map[string][]string, have map[string][]string) bool {
	if _, ok := want["*"]; ok {
		return true
	}
	for typ, vals := range want {
		for _, v := range vals {
			if v == "*" && len(have[typ]) > 0 {
				return true
			}
			for _, h := range have[typ] {
				if v == h {
					return true
				}
			}
		}
	}
	return false
}

// Match reports whether value matches pattern, where * matches any run of
// characters and ? any one character.
func Match(pattern, value string) bool {
	p, v := 0, 0
	star, mark := -1, 0
	for v < len(value) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == value[v]):
			p++
			v++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, v
			p++
		case star >= 0:
			p = star + 1
			mark++
			v = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

var operators = map[string]bool{
	"StringEquals": true, "StringNotEquals": true, "StringEqualsIgnoreCase": true, "StringNotEqualsIgnoreCase": true,
	"StringLike": true, "StringNotLike": true, "ArnEquals": true, "ArnLike": true, "ArnNotEquals": true, "ArnNotLike": true,
	"NumericEquals": true, "NumericNotEquals": true, "NumericLessThan": true, "NumericLessThanEquals": true,
	"NumericGreaterThan": true, "NumericGreaterThanEquals": true, "Bool": true, "Null": true,
	"IpAddress": true, "NotIpAddress": true,
}

func knownOperator(op string) bool {
	_, base, _, _ := splitOperator(op)
	return operators[base]
}

// splitOperator splits "ForAnyValue:StringLikeIfExists" into its set
// qualifier, base operator and IfExists flag.
func splitOperator(op string) (set, base string, ifExists bool, ok bool) {
	if q, rest, found := strings.Cut(op, ":"); found {
		if q != "ForAnyValue" && q != "ForAllValues" {
			return "", "", false, false
		}
		set, op = q, rest
	}
	if b, found := strings.CutSuffix(op, "IfExists"); found && op != "Null" {
		op, ifExists = b, true
	}
	return set, op, ifExists, true
}

// condition evaluates one operator over one key: want are the policy's
// values, have the request's.
func condition(op string, want, have []string) bool {
	set, base, ifExists, _ := splitOperator(op)
	if base == "Null" {
		isNull := len(have) == 0
		for _, w := range want {
			if strings.EqualFold(w, "true") == isNull {
				return true
			}
		}
		return false
	}
	positive, negated := positiveOf(base)
	if len(have) == 0 {
		// A missing key matches nothing: positive operators fail, negated
		// ones hold, as do ...IfExists and ForAllValues.
		return ifExists || negated || set == "ForAllValues"
	}
	test := func(h string) bool {
		for _, w := range want {
			if compare(positive, w, h) {
				return !negated
			}
		}
		return negated
	}
	if set == "ForAllValues" {
		for _, h := range have {
			if !test(h) {
				return false
			}
		}
		return true
	}
	for _, h := range have {
		if test(h) {
			return true
		}
	}
	return false
}

// positiveOf returns the operator a negated one negates.
func positiveOf(base string) (string, bool) {
	switch base {
	case "StringNotEquals":
		return "StringEquals", true
	case "StringNotEqualsIgnoreCase":
		return "StringEqualsIgnoreCase", true
	case "StringNotLike":
		return "StringLike", true
	case "ArnNotEquals":
		return "ArnEquals", true
	case "ArnNotLike":
		return "ArnLike", true
	case "NumericNotEquals":
		return "NumericEquals", true
	case "NotIpAddress":
		return "IpAddress", true
	}
	return base, false
}

// compare applies one positive operator to a policy value w and a request
// value h.
func compare(base, w, h string) bool {
	switch base {
	case "StringEquals", "ArnEquals":
		return w == h
	case "StringEqualsIgnoreCase":
		return strings.EqualFold(w, h)
	case "StringLike", "ArnLike":
		return Match(w, h)
	case "Bool":
		return strings.EqualFold(w, h)
	case "IpAddress":
		_, n, err := net.ParseCIDR(w)
		ip := net.ParseIP(h)
		return err == nil && ip != nil && n.Contains(ip)
	}
	wf, err1 := strconv.ParseFloat(w, 64)
	hf, err2 := strconv.ParseFloat(h, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	switch base {
	case "NumericEquals":
		return hf == wf
	case "NumericLessThan":
		return hf < wf
	case "NumericLessThanEquals":
		return hf <= wf
	case "NumericGreaterThan":
		return hf > wf
	case "NumericGreaterThanEquals":
		return hf >= wf
	}
	return false
}
