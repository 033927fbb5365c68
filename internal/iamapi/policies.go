package iamapi

import (
	"context"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/iam"
)

type createPolicyIn struct {
	PolicyName     string
	Path           string
	PolicyDocument string
	Description    string
	Tags           []wTag
}

type policyOutput struct{ Policy wPolicy }

func (a *API) createPolicy(ctx context.Context, c *awsproto.Call, in *createPolicyIn) (any, error) {
	p, err := a.plane.CreatePolicy(ctx, c.Account, in.PolicyName, in.Path, in.Description, in.PolicyDocument, tagsIn(in.Tags))
	if err != nil {
		return nil, err
	}
	return &policyOutput{Policy: policyOut(p, 0)}, nil
}

type policyArnIn struct{ PolicyArn string }

func (a *API) getPolicy(ctx context.Context, c *awsproto.Call, in *policyArnIn) (any, error) {
	p, n, err := a.plane.Policy(ctx, c.Account, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	return &policyOutput{Policy: policyOut(p, n)}, nil
}

func (a *API) deletePolicy(ctx context.Context, c *awsproto.Call, in *policyArnIn) (any, error) {
	return &empty{}, a.plane.DeletePolicy(ctx, c.Account, in.PolicyArn)
}

type listPoliciesIn struct {
	Scope        string
	OnlyAttached bool
	PathPrefix   string
	pageIn
}

type listPoliciesOut struct {
	Policies    []wPolicy
	IsTruncated bool
	Marker      string `json:",omitempty"`
}

func (a *API) listPolicies(ctx context.Context, c *awsproto.Call, in *listPoliciesIn) (any, error) {
	switch in.Scope {
	case "", "All", "AWS", "Local":
	default:
		return nil, iam.Validation("1 validation error detected: Value '%s' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]", in.Scope)
	}
	ps, err := a.plane.Policies(ctx, c.Account, in.Scope, in.PathPrefix, in.OnlyAttached)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(ps, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &listPoliciesOut{Policies: []wPolicy{}, IsTruncated: next != "", Marker: next}
	for _, p := range pg {
		w := policyOut(p.Policy, p.Attachments)
		w.Description, w.Tags = "", nil // ListPolicies leaves them out, as AWS
		out.Policies = append(out.Policies, w)
	}
	return out, nil
}

type createPolicyVersionIn struct {
	PolicyArn      string
	PolicyDocument string
	SetAsDefault   bool
}

type policyVersionOutput struct{ PolicyVersion wPolicyVersion }

func (a *API) createPolicyVersion(ctx context.Context, c *awsproto.Call, in *createPolicyVersionIn) (any, error) {
	v, err := a.plane.CreatePolicyVersion(ctx, c.Account, in.PolicyArn, in.PolicyDocument, in.SetAsDefault)
	if err != nil {
		return nil, err
	}
	return &policyVersionOutput{PolicyVersion: wPolicyVersion{VersionId: v.ID, IsDefaultVersion: in.SetAsDefault, CreateDate: v.Created}}, nil
}

type policyVersionIn struct {
	PolicyArn string
	VersionId string
}

func (a *API) getPolicyVersion(ctx context.Context, c *awsproto.Call, in *policyVersionIn) (any, error) {
	v, def, err := a.plane.PolicyVersion(ctx, c.Account, in.PolicyArn, in.VersionId)
	if err != nil {
		return nil, err
	}
	return &policyVersionOutput{PolicyVersion: wPolicyVersion{Document: encodeDoc(v.Document), VersionId: v.ID, IsDefaultVersion: def, CreateDate: v.Created}}, nil
}

type policyArnPageIn struct {
	PolicyArn string
	pageIn
}

type listPolicyVersionsOut struct {
	Versions    []wPolicyVersion
	IsTruncated bool
	Marker      string `json:",omitempty"`
}

func (a *API) listPolicyVersions(ctx context.Context, c *awsproto.Call, in *policyArnPageIn) (any, error) {
	p, _, err := a.plane.Policy(ctx, c.Account, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	var all []wPolicyVersion
	for i := len(p.Versions) - 1; i >= 0; i-- { // newest first, as AWS
		v := p.Versions[i]
		all = append(all, wPolicyVersion{VersionId: v.ID, IsDefaultVersion: v.ID == p.DefaultVersion, CreateDate: v.Created})
	}
	pg, next, err := page(all, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &listPolicyVersionsOut{Versions: append([]wPolicyVersion{}, pg...), IsTruncated: next != "", Marker: next}, nil
}

func (a *API) deletePolicyVersion(ctx context.Context, c *awsproto.Call, in *policyVersionIn) (any, error) {
	return &empty{}, a.plane.DeletePolicyVersion(ctx, c.Account, in.PolicyArn, in.VersionId)
}

func (a *API) setDefaultPolicyVersion(ctx context.Context, c *awsproto.Call, in *policyVersionIn) (any, error) {
	return &empty{}, a.plane.SetDefaultPolicyVersion(ctx, c.Account, in.PolicyArn, in.VersionId)
}

type tagPolicyIn struct {
	PolicyArn string
	Tags      []wTag
}

func (a *API) tagPolicy(ctx context.Context, c *awsproto.Call, in *tagPolicyIn) (any, error) {
	return &empty{}, a.plane.TagPolicy(ctx, c.Account, in.PolicyArn, tagsIn(in.Tags))
}

type untagPolicyIn struct {
	PolicyArn string
	TagKeys   []string
}

func (a *API) untagPolicy(ctx context.Context, c *awsproto.Call, in *untagPolicyIn) (any, error) {
	return &empty{}, a.plane.UntagPolicy(ctx, c.Account, in.PolicyArn, in.TagKeys)
}

func (a *API) listPolicyTags(ctx context.Context, c *awsproto.Call, in *policyArnPageIn) (any, error) {
	p, _, err := a.plane.Policy(ctx, c.Account, in.PolicyArn)
	if err != nil {
		return nil, err
	}
	return tagsPage(p.Tags, in.pageIn)
}
