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
	if c.Principal == "" {
		return nil
	}
	docs, boundary, session, err := p.identityPolicies(ctx, c)
	if err != nil {
		return err
	}
	ctxKeys := map[string][]string{"aws:PrincipalArn": {c.Principal}, "aws:PrincipalAccount": {c.Account}, "aws:userid": {c.PrincipalID}}
	if strings.Contains(c.Principal, ":assumed-role/") {
		parts := strings.Split(c.Principal, "/")
		ctxKeys["aws:PrincipalArn"] = []string{iam.RoleARN(c.Account, "/", parts[1])}
	}
	for k, v := range keys {
		ctxKeys[k] = v
	}
	req := iampolicy.Request{Action: action, Resource: resource, Context: ctxKeys}
	switch iampolicy.Evaluate(req, docs...) {
	case iampolicy.Denied:
		return denied(c.Principal, action, resource, "with an explicit deny in an identity-based policy")
	case iampolicy.NotAllowed:
		return denied(c.Principal, action, resource, "because no identity-based policy allows the "+action+" action")
	}
	if boundary != nil && iampolicy.Evaluate(req, boundary) != iampolicy.Allowed {
		return denied(c.Principal, action, resource, "because no permissions boundary allows the "+action+" action")
	}
	if session != nil && iampolicy.Evaluate(req, session) != iampolicy.Allowed {
		return denied(c.Principal, action, resource, "because no session policy allows the "+action+" action")
	}
	return nil
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
