package ecrapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/fault"
)

// Repository policies are IAM resource policies. berth evaluates them for
// callers from other accounts (the owning account is always allowed):
//
//   - a principal is an account: the access key's account;
//   - an explicit Deny that matches the principal and the action wins;
//   - otherwise an Allow that matches both grants the action;
//   - Principal matches "*", {"AWS": "*"}, the 12-digit account ID or
//     arn:aws:iam::ACCOUNT:root (other ARNs of the account name users and
//     roles berth cannot tell apart, so they do not match);
//   - Action and NotAction entries are matched case-insensitively with
//     '*' and '?' wildcards ("ecr:*", "ecr:Batch*");
//   - Resource is ignored (a repository policy is about its repository);
//   - a statement with a Condition is not evaluated by berth: an Allow with
//     a Condition grants nothing and a Deny with one always applies.

const maxPolicyLen = 10240

type policyDoc struct {
	Version   string          `json:"Version"`
	ID        string          `json:"Id"`
	Statement json.RawMessage `json:"Statement"`
}

type policyStatement struct {
	Sid          string          `json:"Sid"`
	Effect       string          `json:"Effect"`
	Principal    json.RawMessage `json:"Principal"`
	NotPrincipal json.RawMessage `json:"NotPrincipal"`
	Action       json.RawMessage `json:"Action"`
	NotAction    json.RawMessage `json:"NotAction"`
	Resource     json.RawMessage `json:"Resource"`
	NotResource  json.RawMessage `json:"NotResource"`
	Condition    json.RawMessage `json:"Condition"`
}

// statement is a parsed statement.
type statement struct {
	allow        bool
	anyPrincipal bool
	accounts     []string // principal accounts
	notPrincipal bool
	actions      []string
	notAction    bool
	conditional  bool
}

func errPolicy(format string, args ...any) error {
	return errInvalidParam("Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided: %s'", fmt.Sprintf(format, args...))
}

// stringOrList decodes an IAM "string or list of strings" member.
func stringOrList(raw json.RawMessage) ([]string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}, true
	}
	var l []string
	if json.Unmarshal(raw, &l) == nil {
		return l, true
	}
	return nil, false
}

var (
	accountRE   = regexp.MustCompile(`^[0-9]{12}$`)
	iamARNRE    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):(root|user/.+|role/.+|assumed-role/.+|group/.+)$`)
	stsARNRE    = regexp.MustCompile(`^arn:aws[a-z-]*:sts::([0-9]{12}):.+$`)
	actionNameR = regexp.MustCompile(`^[A-Za-z0-9*?]+$`)
)

// parsePolicy validates a repository policy and returns its statements.
func parsePolicy(text string) ([]statement, error) {
	if len(text) == 0 || len(text) > maxPolicyLen {
		return nil, errInvalidParam("Invalid parameter at 'policyText' failed to satisfy constraint: 'Member must have length between 1 and %d'", maxPolicyLen)
	}
	var doc policyDoc
	dec := json.NewDecoder(strings.NewReader(text))
	if err := dec.Decode(&doc); err != nil {
		return nil, errPolicy("the policy is not a valid JSON object: %v", err)
	}
	if dec.More() {
		return nil, errPolicy("data after the JSON document")
	}
	if doc.Version != "" && doc.Version != "2012-10-17" && doc.Version != "2008-10-17" {
		return nil, errPolicy("unsupported Version %q", doc.Version)
	}
	raw := bytes.TrimSpace(doc.Statement)
	if len(raw) == 0 {
		return nil, errPolicy("the policy has no Statement")
	}
	var stmts []policyStatement
	if raw[0] == '{' {
		var s policyStatement
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errPolicy("malformed Statement: %v", err)
		}
		stmts = []policyStatement{s}
	} else if err := json.Unmarshal(raw, &stmts); err != nil {
		return nil, errPolicy("Statement must be an object or a list of objects: %v", err)
	}
	if len(stmts) == 0 {
		return nil, errPolicy("the policy has no Statement")
	}
	out := make([]statement, 0, len(stmts))
	for i, s := range stmts {
		st, err := parseStatement(s)
		if err != nil {
			return nil, errPolicy("statement %d: %v", i+1, err)
		}
		out = append(out, st)
	}
	return out, nil
}

func parseStatement(s policyStatement) (statement, error) {
	var st statement
	switch s.Effect {
	case "Allow":
		st.allow = true
	case "Deny":
	default:
		return st, fmt.Errorf("Effect must be Allow or Deny, got %q", s.Effect)
	}
	switch {
	case len(s.Principal) > 0 && len(s.NotPrincipal) > 0:
		return st, fmt.Errorf("Principal and NotPrincipal cannot both be specified")
	case len(s.Principal) > 0:
	case len(s.NotPrincipal) > 0:
		st.notPrincipal = true
		s.Principal = s.NotPrincipal
	default:
		return st, fmt.Errorf("a repository policy statement requires a Principal")
	}
	if err := parsePrincipal(s.Principal, &st); err != nil {
		return st, err
	}
	switch {
	case len(s.Action) > 0 && len(s.NotAction) > 0:
		return st, fmt.Errorf("Action and NotAction cannot both be specified")
	case len(s.Action) > 0:
	case len(s.NotAction) > 0:
		st.notAction = true
		s.Action = s.NotAction
	default:
		return st, fmt.Errorf("the statement requires an Action")
	}
	acts, ok := stringOrList(s.Action)
	if !ok || len(acts) == 0 {
		return st, fmt.Errorf("Action must be a string or a list of strings")
	}
	for _, act := range acts {
		if act == "*" {
			st.actions = append(st.actions, act)
			continue
		}
		svc, name, found := strings.Cut(act, ":")
		if !found || !strings.EqualFold(svc, "ecr") || !actionNameR.MatchString(name) {
			return st, fmt.Errorf("invalid action %q: repository policies only grant ecr actions (ecr:Name, wildcards allowed)", act)
		}
		st.actions = append(st.actions, act)
	}
	if len(bytes.TrimSpace(s.Condition)) > 0 && string(bytes.TrimSpace(s.Condition)) != "{}" {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(s.Condition, &m); err != nil {
			return st, fmt.Errorf("Condition must be an object")
		}
		st.conditional = true
	}
	return st, nil
}

func parsePrincipal(raw json.RawMessage, st *statement) error {
	raw = bytes.TrimSpace(raw)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s != "*" {
			return fmt.Errorf("Principal must be \"*\" or an object such as {\"AWS\": \"arn:aws:iam::123456789012:root\"}")
		}
		st.anyPrincipal = true
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("Principal must be \"*\" or an object")
	}
	if len(m) == 0 {
		return fmt.Errorf("Principal must not be empty")
	}
	for kind, v := range m {
		vals, ok := stringOrList(v)
		if !ok || len(vals) == 0 {
			return fmt.Errorf("Principal %s must be a string or a list of strings", kind)
		}
		switch kind {
		case "AWS":
			for _, p := range vals {
				switch {
				case p == "*":
					st.anyPrincipal = true
				case accountRE.MatchString(p):
					st.accounts = append(st.accounts, p)
				case iamARNRE.MatchString(p):
					m := iamARNRE.FindStringSubmatch(p)
					if m[2] == "root" {
						st.accounts = append(st.accounts, m[1])
					}
				case stsARNRE.MatchString(p):
				default:
					return fmt.Errorf("invalid principal %q", p)
				}
			}
		case "Service", "Federated", "CanonicalUser":
			// valid, but never an access key's account
		default:
			return fmt.Errorf("unknown principal type %q", kind)
		}
	}
	return nil
}

// wildcardMatch matches IAM action patterns ('*', '?'), case-insensitively.
func wildcardMatch(pattern, s string) bool {
	p, v := strings.ToLower(pattern), strings.ToLower(s)
	// classic two-pointer glob match
	pi, vi, star, mark := 0, 0, -1, 0
	for vi < len(v) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == v[vi]):
			pi++
			vi++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, vi
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			vi = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func (st statement) matchesPrincipal(account string) bool {
	m := st.anyPrincipal
	for _, a := range st.accounts {
		if a == account {
			m = true
		}
	}
	if st.notPrincipal {
		return !m
	}
	return m
}

func (st statement) matchesAction(action string) bool {
	m := false
	for _, p := range st.actions {
		if wildcardMatch(p, action) {
			m = true
			break
		}
	}
	if st.notAction {
		return !m
	}
	return m
}

// policyAllows evaluates a repository policy for a caller of another
// account. An empty or unparsable policy allows nothing.
func policyAllows(text, account, action string) bool {
	if text == "" {
		return false
	}
	stmts, err := parsePolicy(text)
	if err != nil {
		return false
	}
	allowed := false
	for _, st := range stmts {
		if !st.matchesPrincipal(account) || !st.matchesAction(action) {
			continue
		}
		if !st.allow {
			return false // explicit deny (also when conditional)
		}
		if !st.conditional {
			allowed = true
		}
	}
	return allowed
}

type setRepositoryPolicyIn struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	PolicyText     string `json:"policyText"`
	Force          bool   `json:"force"`
}

type repositoryPolicyIn struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
}

type repositoryPolicyOut struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	PolicyText     string `json:"policyText,omitempty"`
}

// setRepositoryPolicy stores a validated policy. force (skip ECR's lockout
// check) is accepted and has no effect: berth never locks the owner out.
func (a *API) setRepositoryPolicy(ctx context.Context, c *awsproto.Call, in *setRepositoryPolicyIn) (any, error) {
	if _, err := parsePolicy(in.PolicyText); err != nil {
		return nil, err
	}
	sc, _, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:SetRepositoryPolicy")
	if err != nil {
		return nil, err
	}
	rec, err := a.updateRepo(ctx, sc, in.RepositoryName, func(r *repoRecord) error {
		r.Policy = in.PolicyText
		return nil
	})
	if err != nil {
		return nil, err
	}
	return repositoryPolicyOut{rec.RegistryID, rec.Name, rec.Policy}, nil
}

func errPolicyNotFound(rec *repoRecord) error {
	return fault.NotFoundf("repositoryPolicy", "Repository policy does not exist for the %s", rec.describeRef()).
		WithCode("RepositoryPolicyNotFoundException")
}

func (a *API) getRepositoryPolicy(ctx context.Context, c *awsproto.Call, in *repositoryPolicyIn) (any, error) {
	_, rec, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:GetRepositoryPolicy")
	if err != nil {
		return nil, err
	}
	if rec.Policy == "" {
		return nil, errPolicyNotFound(rec)
	}
	return repositoryPolicyOut{rec.RegistryID, rec.Name, rec.Policy}, nil
}

func (a *API) deleteRepositoryPolicy(ctx context.Context, c *awsproto.Call, in *repositoryPolicyIn) (any, error) {
	sc, _, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:DeleteRepositoryPolicy")
	if err != nil {
		return nil, err
	}
	var old string
	rec, err := a.updateRepo(ctx, sc, in.RepositoryName, func(r *repoRecord) error {
		if r.Policy == "" {
			return errPolicyNotFound(r)
		}
		old, r.Policy = r.Policy, ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	return repositoryPolicyOut{rec.RegistryID, rec.Name, old}, nil
}
