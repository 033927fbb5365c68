package elbproxy

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

// cond is a compiled rule condition.
type cond func(r *http.Request, client netip.Addr) bool

// albRule is a compiled rule; the default rule has no conditions.
type albRule struct {
	conds  []cond
	action *albAction
}

// albAction is a rule's compiled terminating action.
type albAction struct {
	typ      string
	fixed    *FixedResponse
	redirect *Redirect
	fwd      *forwardAction
}

// forwardAction is a forward with its groups and their weighted round
// robin state (mu).
type forwardAction struct {
	stickiness time.Duration
	mu         sync.Mutex
	groups     []weightedGroup
}

type weightedGroup struct {
	g      *group // nil when the Spec names no such group
	weight int
	cw     int
}

func (r albRule) matches(req *http.Request, client netip.Addr) bool {
	for _, c := range r.conds {
		if !c(req, client) {
			return false
		}
	}
	return true
}

// compileRules compiles a listener's rules and default actions. A forward
// equal to one in prev (same groups, weights and stickiness) keeps its
// weighted round robin state, so that re-applying an unchanged Spec (every
// stored health change does) does not skew the split.
func compileRules(groups map[string]*group, l Listener, prev []albRule) []albRule {
	keep := map[string]*forwardAction{}
	for _, r := range prev {
		if r.action != nil && r.action.fwd != nil {
			keep[r.action.fwd.signature()] = r.action.fwd
		}
	}
	rules := slices.Clone(l.Rules)
	slices.SortStableFunc(rules, func(a, b Rule) int { return a.Priority - b.Priority })
	out := make([]albRule, 0, len(rules)+1)
	for _, r := range rules {
		cr := albRule{action: compileActions(groups, r.Actions, keep)}
		for _, c := range r.Conditions {
			cr.conds = append(cr.conds, compileCond(c))
		}
		out = append(out, cr)
	}
	return append(out, albRule{action: compileActions(groups, l.DefaultActions, keep)})
}

func compileActions(groups map[string]*group, actions []Action, keep map[string]*forwardAction) *albAction {
	as := slices.Clone(actions)
	slices.SortStableFunc(as, func(a, b Action) int { return a.Order - b.Order })
	for _, a := range as {
		switch {
		case a.Type == ActionFixedResponse && a.FixedResponse != nil:
			return &albAction{typ: a.Type, fixed: a.FixedResponse}
		case a.Type == ActionRedirect && a.Redirect != nil:
			return &albAction{typ: a.Type, redirect: a.Redirect}
		case a.Type == ActionForward && a.Forward != nil:
			f := &forwardAction{stickiness: a.Forward.Stickiness}
			for _, w := range a.Forward.TargetGroups {
				weight := w.Weight
				if len(a.Forward.TargetGroups) == 1 && weight == 0 {
					weight = 1
				}
				f.groups = append(f.groups, weightedGroup{g: groups[w.ARN], weight: weight})
			}
			if old := keep[f.signature()]; old != nil {
				f = old
			}
			return &albAction{typ: a.Type, fwd: f}
		}
	}
	// No action berth serves (authenticate-*): ALB answers 503 then.
	return &albAction{typ: ActionFixedResponse, fixed: nil}
}

// signature identifies a forward by its groups (the live objects), weights
// and stickiness.
func (f *forwardAction) signature() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", f.stickiness)
	for _, w := range f.groups {
		fmt.Fprintf(&b, "|%p:%d", w.g, w.weight)
	}
	return b.String()
}

func compileCond(c Condition) cond {
	switch c.Field {
	case FieldPathPattern:
		vals := c.Values
		return func(r *http.Request, _ netip.Addr) bool {
			return anyMatch(vals, r.URL.Path, false)
		}
	case FieldHostHeader:
		vals := c.Values
		return func(r *http.Request, _ netip.Addr) bool {
			return anyMatch(vals, hostOnly(r.Host), true)
		}
	case FieldHTTPHeader:
		name, vals := http.CanonicalHeaderKey(c.HeaderName), c.Values
		return func(r *http.Request, _ netip.Addr) bool {
			for _, v := range r.Header.Values(name) {
				if anyMatch(vals, v, true) {
					return true
				}
			}
			return false
		}
	case FieldRequestMethod:
		vals := c.Values
		return func(r *http.Request, _ netip.Addr) bool {
			return slices.Contains(vals, r.Method)
		}
	case FieldQueryString:
		kvs := c.QueryValues
		return func(r *http.Request, _ netip.Addr) bool {
			q := r.URL.Query()
			for _, kv := range kvs {
				for k, vs := range q {
					if kv.Key != "" && !wildcard(kv.Key, k, true) {
						continue
					}
					if anyMatch([]string{kv.Value}, firstOr(vs), true) {
						return true
					}
				}
			}
			return false
		}
	case FieldSourceIP:
		var nets []netip.Prefix
		for _, v := range c.Values {
			if p, err := netip.ParsePrefix(v); err == nil {
				nets = append(nets, p.Masked())
			} else if a, err := netip.ParseAddr(v); err == nil {
				nets = append(nets, netip.PrefixFrom(a, a.BitLen()))
			}
		}
		return func(_ *http.Request, client netip.Addr) bool {
			for _, n := range nets {
				if n.Contains(client) {
					return true
				}
			}
			return false
		}
	}
	// A field berth does not know never matches.
	return func(*http.Request, netip.Addr) bool { return false }
}

func firstOr(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if wildcard(p, s, fold) {
			return true
		}
	}
	return false
}

// wildcard matches s against pattern, where * is any run of characters
// and ? any one; fold makes it case-insensitive (ASCII).
func wildcard(pattern, s string, fold bool) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i] || fold && lowerASCII(pattern[p]) == lowerASCII(s[i])):
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hostOnly is host without a port.
func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

// pickGroup chooses the forward's group: the sticky one if named and still
// weighted, else by smooth weighted round robin. nil when none has weight.
func (f *forwardAction) pickGroup(stickyID string) *group {
	f.mu.Lock()
	defer f.mu.Unlock()
	if stickyID != "" {
		for _, w := range f.groups {
			if w.g != nil && w.weight > 0 && w.g.id == stickyID {
				return w.g
			}
		}
	}
	var best *weightedGroup
	total := 0
	for i := range f.groups {
		w := &f.groups[i]
		if w.weight <= 0 {
			continue
		}
		w.cw += w.weight
		total += w.weight
		if best == nil || w.cw > best.cw {
			best = w
		}
	}
	if best == nil {
		return nil
	}
	best.cw -= total
	return best.g
}
