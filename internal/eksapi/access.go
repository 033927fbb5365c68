package eksapi

import (
	"context"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/eks"
	"github.com/berth-dev/berth/internal/ekscp"
)

type createEntryInput struct {
	ClusterName        string            `json:"-" location:"uri" locationName:"name"`
	PrincipalArn       string            `json:"principalArn"`
	KubernetesGroups   []string          `json:"kubernetesGroups"`
	Tags               map[string]string `json:"tags"`
	ClientRequestToken string            `json:"clientRequestToken"`
	Username           string            `json:"username"`
	Type               string            `json:"type"`
}

func (a *API) createAccessEntry(ctx context.Context, c *awsproto.Call, in *createEntryInput) (any, error) {
	if in.PrincipalArn == "" {
		return nil, eks.InvalidParameterf("principalArn is required")
	}
	e, err := a.plane.CreateAccessEntry(ctx, a.scope(c), in.ClusterName, ekscp.AccessEntryInput{
		PrincipalARN: in.PrincipalArn, Groups: in.KubernetesGroups, Username: in.Username, Type: in.Type, Tags: in.Tags})
	if err != nil {
		return nil, err
	}
	return map[string]any{"accessEntry": toWireEntry(in.ClusterName, e)}, nil
}

type entryInput struct {
	ClusterName  string `json:"-" location:"uri" locationName:"name"`
	PrincipalArn string `json:"-" location:"uri" locationName:"principalArn"`
}

func (a *API) describeAccessEntry(ctx context.Context, c *awsproto.Call, in *entryInput) (any, error) {
	e, err := a.plane.DescribeAccessEntry(ctx, a.scope(c), in.ClusterName, in.PrincipalArn)
	if err != nil {
		return nil, err
	}
	return map[string]any{"accessEntry": toWireEntry(in.ClusterName, e)}, nil
}

type listEntriesInput struct {
	ClusterName string `json:"-" location:"uri" locationName:"name"`
	listInput
	AssociatedPolicyArn string `json:"-" location:"querystring" locationName:"associatedPolicyArn"`
}

func (a *API) listAccessEntries(ctx context.Context, c *awsproto.Call, in *listEntriesInput) (any, error) {
	arns, err := a.plane.ListAccessEntries(ctx, a.scope(c), in.ClusterName, in.AssociatedPolicyArn)
	if err != nil {
		return nil, err
	}
	items, next, err := page(arns, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return struct {
		AccessEntries []string `json:"accessEntries"`
		NextToken     *string  `json:"nextToken,omitempty"`
	}{nonNil(items), next}, nil
}

type updateEntryInput struct {
	ClusterName        string   `json:"-" location:"uri" locationName:"name"`
	PrincipalArn       string   `json:"-" location:"uri" locationName:"principalArn"`
	KubernetesGroups   []string `json:"kubernetesGroups"`
	ClientRequestToken string   `json:"clientRequestToken"`
	Username           *string  `json:"username"`
}

func (a *API) updateAccessEntry(ctx context.Context, c *awsproto.Call, in *updateEntryInput) (any, error) {
	e, err := a.plane.UpdateAccessEntry(ctx, a.scope(c), in.ClusterName, in.PrincipalArn, in.KubernetesGroups, in.Username)
	if err != nil {
		return nil, err
	}
	return map[string]any{"accessEntry": toWireEntry(in.ClusterName, e)}, nil
}

func (a *API) deleteAccessEntry(ctx context.Context, c *awsproto.Call, in *entryInput) (any, error) {
	if err := a.plane.DeleteAccessEntry(ctx, a.scope(c), in.ClusterName, in.PrincipalArn); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type associateInput struct {
	ClusterName  string           `json:"-" location:"uri" locationName:"name"`
	PrincipalArn string           `json:"-" location:"uri" locationName:"principalArn"`
	PolicyArn    string           `json:"policyArn"`
	AccessScope  *wireAccessScope `json:"accessScope"`
}

func (a *API) associateAccessPolicy(ctx context.Context, c *awsproto.Call, in *associateInput) (any, error) {
	if in.PolicyArn == "" || in.AccessScope == nil {
		return nil, eks.InvalidParameterf("policyArn and accessScope are required")
	}
	p, err := a.plane.AssociateAccessPolicy(ctx, a.scope(c), in.ClusterName, in.PrincipalArn, in.PolicyArn, in.AccessScope.Type, in.AccessScope.Namespaces)
	if err != nil {
		return nil, err
	}
	return map[string]any{"clusterName": in.ClusterName, "principalArn": in.PrincipalArn, "associatedAccessPolicy": toWirePolicy(p)}, nil
}

type disassociateInput struct {
	ClusterName  string `json:"-" location:"uri" locationName:"name"`
	PrincipalArn string `json:"-" location:"uri" locationName:"principalArn"`
	PolicyArn    string `json:"-" location:"uri" locationName:"policyArn"`
}

func (a *API) disassociateAccessPolicy(ctx context.Context, c *awsproto.Call, in *disassociateInput) (any, error) {
	if err := a.plane.DisassociateAccessPolicy(ctx, a.scope(c), in.ClusterName, in.PrincipalArn, in.PolicyArn); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type listAssociatedInput struct {
	ClusterName  string `json:"-" location:"uri" locationName:"name"`
	PrincipalArn string `json:"-" location:"uri" locationName:"principalArn"`
	listInput
}

func (a *API) listAssociatedAccessPolicies(ctx context.Context, c *awsproto.Call, in *listAssociatedInput) (any, error) {
	ps, err := a.plane.ListAssociatedAccessPolicies(ctx, a.scope(c), in.ClusterName, in.PrincipalArn)
	if err != nil {
		return nil, err
	}
	items, next, err := page(ps, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := make([]wireAssociatedPolicy, len(items))
	for i, p := range items {
		out[i] = toWirePolicy(p)
	}
	return struct {
		ClusterName              string                 `json:"clusterName"`
		PrincipalArn             string                 `json:"principalArn"`
		NextToken                *string                `json:"nextToken,omitempty"`
		AssociatedAccessPolicies []wireAssociatedPolicy `json:"associatedAccessPolicies"`
	}{in.ClusterName, in.PrincipalArn, next, out}, nil
}

type wireAccessPolicy struct {
	Name string `json:"name"`
	Arn  string `json:"arn"`
}

func (a *API) listAccessPolicies(ctx context.Context, c *awsproto.Call, in *listInput) (any, error) {
	all := make([]wireAccessPolicy, len(eks.AccessPolicies))
	for i, n := range eks.AccessPolicies {
		all[i] = wireAccessPolicy{Name: n, Arn: eks.AccessPolicyARNPrefix + n}
	}
	items, next, err := page(all, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return struct {
		AccessPolicies []wireAccessPolicy `json:"accessPolicies"`
		NextToken      *string            `json:"nextToken,omitempty"`
	}{items, next}, nil
}
