package iamcp

import (
	"context"
	"strings"

	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/iampolicy"
)

// CodeAccessDeniedJSON is the exception awsJson services answer a denied
// call with (awsQuery services spell it AccessDenied).
const CodeAccessDeniedJSON = "AccessDeniedException"

// Authorize evaluates the identity policies of a caller for one action on
// one resource: the policies of an IAM user, or of the role of an
// assumed-role session (and the session policy given to AssumeRole, and
// the role's permissions boundary, which must also allow). The root and
// berth's default credentials (Principal "") may do anything. A denied
// call is an AccessDenied fault with AWS's message.
func (p *Plane) Authorize(ctx context.Context, c Caller, action, resource string, keys map[string][]string) error {
	ok, why, err := p.identityDecision(ctx, c, action, resource, keys)
	if err != nil || ok {
		return err
	}
	return denied(c.Principal, action, resource, why)
}

// AuthorizeResource evaluates a call on a resource with a resource-based
// policy (resourcePolicy, "" for none) that resourceAccount owns, as AWS
// does: an explicit Deny in the identity's or the resource's policy
// wins; within the resource's account either may allow (the account's
// root always may); from another account both must.
func (p *Plane) AuthorizeResource(ctx context.Context, c Caller, action, resource, resourceAccount, resourcePolicy string, keys map[string][]string) error {
	callerARN := c.Principal
	if callerARN == "" {
		callerARN = iam.RootARN(c.Account)
	}
	res := iampolicy.NotAllowed
	if resourcePolicy != "" {
		if doc, err := iampolicy.Parse(resourcePolicy, true); err == nil {
			principal := []string{callerARN, c.Account, iam.RootARN(c.Account)}
			if strings.Contains(c.Principal, ":assumed-role/") {
				principal = append(principal, iam.RoleARN(c.Account, "/", strings.Split(c.Principal, "/")[1]))
			}
			req := iampolicy.Request{Action: action, Resource: resource, Principal: map[string][]string{"AWS": principal},
				Context: contextKeys(c, keys)}
			res = iampolicy.Evaluate(req, doc)
		}
	}
	if res == iampolicy.Denied {
		return denied(callerARN, action, resource, "with an explicit deny in a resource-based policy")
	}
	ok, why, err := p.identityDecision(ctx, c, action, resource, keys)
	if err != nil {
		return err
	}
	explicit := strings.HasPrefix(why, "with an explicit deny")
	switch {
	case explicit:
		return denied(callerARN, action, resource, why)
	case c.Account == resourceAccount && (ok || res == iampolicy.Allowed):
		return nil
	case !ok:
		return denied(callerARN, action, resource, why)
	case res != iampolicy.Allowed:
		return denied(callerARN, action, resource, "because no resource-based policy allows the "+action+" action")
	}
	return nil
}

// contextKeys are the condition keys of a caller's request.
func contextKeys(c Caller, keys map[string][]string) map[string][]string {
	ctxKeys := map[string][]string{"aws:PrincipalArn": {c.Principal}, "aws:PrincipalAccount": {c.Account}, "aws:userid": {c.PrincipalID}}
	if c.Principal == "" {
		ctxKeys["aws:PrincipalArn"] = []string{iam.RootARN(c.Account)}
	}
	if strings.Contains(c.Principal, ":assumed-role/") {
		parts := strings.Split(c.Principal, "/")
		ctxKeys["aws:PrincipalArn"] = []string{iam.RoleARN(c.Account, "/", parts[1])}
	}
	for k, v := range keys {
		ctxKeys[k] = v
	}
	return ctxKeys
}

// identityDecision evaluates the caller's identity policies; why says
// why not, in the words of AWS's message.
func (p *Plane) identityDecision(ctx context.Context, c Caller, action, resource string, keys map[string][]string) (bool, string, error) {
	if c.Principal == "" {
		return true, "", nil
	}
	docs, boundary, session, err := p.identityPolicies(ctx, c)
	if err != nil {
		return false, "", err
	}
	req := iampolicy.Request{Action: action, Resource: resource, Context: contextKeys(c, keys)}
	switch iampolicy.Evaluate(req, docs...) {
	case iampolicy.Denied:
		return false, "with an explicit deny in an identity-based policy", nil
	case iampolicy.NotAllowed:
		return false, "because no identity-based policy allows the " + action + " action", nil
	}
	if boundary != nil && iampolicy.Evaluate(req, boundary) != iampolicy.Allowed {
		return false, "because no permissions boundary allows the " + action + " action", nil
	}
	if session != nil && iampolicy.Evaluate(req, session) != iampolicy.Allowed {
		return false, "because no session policy allows the " + action + " action", nil
	}
	return true, "", nil
}

func denied(principal, action, resource, why string) error {
	return fault.New(fault.AccessDenied, "User: %s is not authorized to perform: %s on resource: %s %s", principal, action, resource, why).WithCode(CodeAccessDeniedJSON)
}

// identityPolicies gathers the parsed policies of a caller.
func (p *Plane) identityPolicies(ctx context.Context, c Caller) (docs []*iampolicy.Document, boundary, session *iampolicy.Document, err error) {
	st, err := p.repo.Read(ctx, c.Account)
	if err != nil {
		return nil, nil, nil, err
	}
	var inline map[string]string
	var attached []string
	var boundaryARN string
	switch {
	case strings.Contains(c.Principal, ":assumed-role/"):
		parts := strings.Split(c.Principal, "/")
		r := st.Roles[parts[1]]
		if r == nil {
			return nil, nil, nil, nil // the role is gone: nothing allows
		}
		inline, attached, boundaryARN = r.InlinePolicies, r.Attached, r.PermissionsBoundary
		if c.AccessKey != "" {
			if s, ok, err := p.repo.Session(ctx, c.AccessKey); err == nil && ok && s.SourcePolicy != "" {
				session, _ = iampolicy.Parse(s.SourcePolicy, false)
			}
		}
	case strings.Contains(c.Principal, ":user/"):
		u := st.Users[c.Principal[strings.LastIndex(c.Principal, "/")+1:]]
		if u == nil {
			return nil, nil, nil, nil
		}
		inline, attached = u.InlinePolicies, u.Attached
	}
	for _, name := range sortedKeys(inline) {
		if d, err := iampolicy.Parse(inline[name], false); err == nil {
			docs = append(docs, d)
		}
	}
	for _, arn := range attached {
		if pol := p.policy(st, arn); pol != nil {
			if d, err := iampolicy.Parse(pol.Document(), false); err == nil {
				docs = append(docs, d)
			}
		}
	}
	if boundaryARN != "" {
		if pol := p.policy(st, boundaryARN); pol != nil {
			boundary, _ = iampolicy.Parse(pol.Document(), false)
		}
	}
	return docs, boundary, session, nil
}
