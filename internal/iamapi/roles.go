package iamapi

import (
	"context"
	"slices"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/iamcp"
)

func (a *API) iamOps() map[string]awsproto.Op {
	return map[string]awsproto.Op{
		"CreateRole":                    awsproto.Handle(a.createRole),
		"GetRole":                       awsproto.Handle(a.getRole),
		"ListRoles":                     awsproto.Handle(a.listRoles),
		"UpdateRole":                    awsproto.Handle(a.updateRole),
		"UpdateRoleDescription":         awsproto.Handle(a.updateRoleDescription),
		"UpdateAssumeRolePolicy":        awsproto.Handle(a.updateAssumeRolePolicy),
		"DeleteRole":                    awsproto.Handle(a.deleteRole),
		"TagRole":                       awsproto.Handle(a.tagRole),
		"UntagRole":                     awsproto.Handle(a.untagRole),
		"ListRoleTags":                  awsproto.Handle(a.listRoleTags),
		"PutRolePolicy":                 awsproto.Handle(a.putRolePolicy),
		"GetRolePolicy":                 awsproto.Handle(a.getRolePolicy),
		"DeleteRolePolicy":              awsproto.Handle(a.deleteRolePolicy),
		"ListRolePolicies":              awsproto.Handle(a.listRolePolicies),
		"AttachRolePolicy":              awsproto.Handle(a.attachRolePolicy),
		"DetachRolePolicy":              awsproto.Handle(a.detachRolePolicy),
		"ListAttachedRolePolicies":      awsproto.Handle(a.listAttachedRolePolicies),
		"CreatePolicy":                  awsproto.Handle(a.createPolicy),
		"GetPolicy":                     awsproto.Handle(a.getPolicy),
		"DeletePolicy":                  awsproto.Handle(a.deletePolicy),
		"ListPolicies":                  awsproto.Handle(a.listPolicies),
		"CreatePolicyVersion":           awsproto.Handle(a.createPolicyVersion),
		"GetPolicyVersion":              awsproto.Handle(a.getPolicyVersion),
		"ListPolicyVersions":            awsproto.Handle(a.listPolicyVersions),
		"DeletePolicyVersion":           awsproto.Handle(a.deletePolicyVersion),
		"SetDefaultPolicyVersion":       awsproto.Handle(a.setDefaultPolicyVersion),
		"TagPolicy":                     awsproto.Handle(a.tagPolicy),
		"UntagPolicy":                   awsproto.Handle(a.untagPolicy),
		"ListPolicyTags":                awsproto.Handle(a.listPolicyTags),
		"CreateUser":                    awsproto.Handle(a.createUser),
		"GetUser":                       awsproto.Handle(a.getUser),
		"ListUsers":                     awsproto.Handle(a.listUsers),
		"DeleteUser":                    awsproto.Handle(a.deleteUser),
		"TagUser":                       awsproto.Handle(a.tagUser),
		"UntagUser":                     awsproto.Handle(a.untagUser),
		"ListUserTags":                  awsproto.Handle(a.listUserTags),
		"PutUserPolicy":                 awsproto.Handle(a.putUserPolicy),
		"GetUserPolicy":                 awsproto.Handle(a.getUserPolicy),
		"DeleteUserPolicy":              awsproto.Handle(a.deleteUserPolicy),
		"ListUserPolicies":              awsproto.Handle(a.listUserPolicies),
		"AttachUserPolicy":              awsproto.Handle(a.attachUserPolicy),
		"DetachUserPolicy":              awsproto.Handle(a.detachUserPolicy),
		"ListAttachedUserPolicies":      awsproto.Handle(a.listAttachedUserPolicies),
		"CreateAccessKey":               awsproto.Handle(a.createAccessKey),
		"ListAccessKeys":                awsproto.Handle(a.listAccessKeys),
		"UpdateAccessKey":               awsproto.Handle(a.updateAccessKey),
		"DeleteAccessKey":               awsproto.Handle(a.deleteAccessKey),
		"CreateInstanceProfile":         awsproto.Handle(a.createInstanceProfile),
		"GetInstanceProfile":            awsproto.Handle(a.getInstanceProfile),
		"ListInstanceProfiles":          awsproto.Handle(a.listInstanceProfiles),
		"ListInstanceProfilesForRole":   awsproto.Handle(a.listInstanceProfilesForRole),
		"DeleteInstanceProfile":         awsproto.Handle(a.deleteInstanceProfile),
		"AddRoleToInstanceProfile":      awsproto.Handle(a.addRoleToInstanceProfile),
		"RemoveRoleFromInstanceProfile": awsproto.Handle(a.removeRoleFromInstanceProfile),
		"CreateOpenIDConnectProvider":   awsproto.Handle(a.createOIDCProvider),
		"GetOpenIDConnectProvider":      awsproto.Handle(a.getOIDCProvider),
		"ListOpenIDConnectProviders":    awsproto.Handle(a.listOIDCProviders),
		"DeleteOpenIDConnectProvider":   awsproto.Handle(a.deleteOIDCProvider),
		"UploadServerCertificate":       awsproto.Handle(a.uploadServerCertificate),
		"GetServerCertificate":          awsproto.Handle(a.getServerCertificate),
		"ListServerCertificates":        awsproto.Handle(a.listServerCertificates),
		"UpdateServerCertificate":       awsproto.Handle(a.updateServerCertificate),
		"DeleteServerCertificate":       awsproto.Handle(a.deleteServerCertificate),
	}
}

type createRoleIn struct {
	RoleName                 string
	Path                     string
	AssumeRolePolicyDocument string
	Description              string
	MaxSessionDuration       int
	PermissionsBoundary      string
	Tags                     []wTag
}

type roleOutput struct{ Role wRole }

func (a *API) createRole(ctx context.Context, c *awsproto.Call, in *createRoleIn) (any, error) {
	r, err := a.plane.CreateRole(ctx, c.Account, iamcp.CreateRole{Name: in.RoleName, Path: in.Path, TrustPolicy: in.AssumeRolePolicyDocument,
		Description: in.Description, PermissionsBoundary: in.PermissionsBoundary, MaxSessionDuration: in.MaxSessionDuration, Tags: tagsIn(in.Tags)})
	if err != nil {
		return nil, err
	}
	return &roleOutput{Role: roleOut(r)}, nil
}

type roleNameIn struct{ RoleName string }

func (a *API) getRole(ctx context.Context, c *awsproto.Call, in *roleNameIn) (any, error) {
	r, err := a.plane.Role(ctx, c.Account, in.RoleName)
	if err != nil {
		return nil, err
	}
	return &roleOutput{Role: roleOut(r)}, nil
}

type listRolesIn struct {
	PathPrefix string
	pageIn
}

type listRolesOut struct {
	Roles       []wRole
	IsTruncated bool
	Marker      string `json:",omitempty"`
}

func (a *API) listRoles(ctx context.Context, c *awsproto.Call, in *listRolesIn) (any, error) {
	roles, err := a.plane.Roles(ctx, c.Account, in.PathPrefix)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(roles, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &listRolesOut{Roles: []wRole{}, IsTruncated: next != "", Marker: next}
	for _, r := range pg {
		w := roleOut(r)
		w.Tags = nil // ListRoles leaves tags out, as AWS
		out.Roles = append(out.Roles, w)
	}
	return out, nil
}

type updateRoleIn struct {
	RoleName           string
	Description        *string
	MaxSessionDuration int
}

func (a *API) updateRole(ctx context.Context, c *awsproto.Call, in *updateRoleIn) (any, error) {
	_, err := a.plane.UpdateRole(ctx, c.Account, in.RoleName, in.Description, in.MaxSessionDuration)
	return &empty{}, err
}

type updateRoleDescriptionIn struct {
	RoleName    string
	Description string
}

func (a *API) updateRoleDescription(ctx context.Context, c *awsproto.Call, in *updateRoleDescriptionIn) (any, error) {
	r, err := a.plane.UpdateRole(ctx, c.Account, in.RoleName, &in.Description, 0)
	if err != nil {
		return nil, err
	}
	return &roleOutput{Role: roleOut(r)}, nil
}

type updateAssumeRolePolicyIn struct {
	RoleName       string
	PolicyDocument string
}

func (a *API) updateAssumeRolePolicy(ctx context.Context, c *awsproto.Call, in *updateAssumeRolePolicyIn) (any, error) {
	return &empty{}, a.plane.UpdateAssumeRolePolicy(ctx, c.Account, in.RoleName, in.PolicyDocument)
}

func (a *API) deleteRole(ctx context.Context, c *awsproto.Call, in *roleNameIn) (any, error) {
	return &empty{}, a.plane.DeleteRole(ctx, c.Account, in.RoleName)
}

type tagRoleIn struct {
	RoleName string
	Tags     []wTag
}

func (a *API) tagRole(ctx context.Context, c *awsproto.Call, in *tagRoleIn) (any, error) {
	return &empty{}, a.plane.TagRole(ctx, c.Account, in.RoleName, tagsIn(in.Tags))
}

type untagRoleIn struct {
	RoleName string
	TagKeys  []string
}

func (a *API) untagRole(ctx context.Context, c *awsproto.Call, in *untagRoleIn) (any, error) {
	return &empty{}, a.plane.UntagRole(ctx, c.Account, in.RoleName, in.TagKeys)
}

type tagsOutput struct {
	Tags        []wTag
	IsTruncated bool
	Marker      string `json:",omitempty"`
}

type roleNamePageIn struct {
	RoleName string
	pageIn
}

func (a *API) listRoleTags(ctx context.Context, c *awsproto.Call, in *roleNamePageIn) (any, error) {
	r, err := a.plane.Role(ctx, c.Account, in.RoleName)
	if err != nil {
		return nil, err
	}
	return tagsPage(r.Tags, in.pageIn)
}

func tagsPage(tags []iam.Tag, in pageIn) (any, error) {
	pg, next, err := page(tags, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &tagsOutput{Tags: tagsOut(pg), IsTruncated: next != "", Marker: next}, nil
}

type rolePolicyIn struct {
	RoleName       string
	PolicyName     string
	PolicyDocument string
}

func (a *API) putRolePolicy(ctx context.Context, c *awsproto.Call, in *rolePolicyIn) (any, error) {
	return &empty{}, a.plane.PutRolePolicy(ctx, c.Account, in.RoleName, in.PolicyName, in.PolicyDocument)
}

type getRolePolicyOut struct {
	RoleName       string
	PolicyName     string
	PolicyDocument string
}

func (a *API) getRolePolicy(ctx context.Context, c *awsproto.Call, in *rolePolicyIn) (any, error) {
	doc, err := a.plane.RolePolicy(ctx, c.Account, in.RoleName, in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &getRolePolicyOut{RoleName: in.RoleName, PolicyName: in.PolicyName, PolicyDocument: encodeDoc(doc)}, nil
}

func (a *API) deleteRolePolicy(ctx context.Context, c *awsproto.Call, in *rolePolicyIn) (any, error) {
	return &empty{}, a.plane.DeleteRolePolicy(ctx, c.Account, in.RoleName, in.PolicyName)
}

type policyNamesOut struct {
	PolicyNames []string
	IsTruncated bool
	Marker      string `json:",omitempty"`
}

func (a *API) listRolePolicies(ctx context.Context, c *awsproto.Call, in *roleNamePageIn) (any, error) {
	r, err := a.plane.Role(ctx, c.Account, in.RoleName)
	if err != nil {
		return nil, err
	}
	return namesPage(r.InlinePolicies, in.pageIn)
}

func namesPage(m map[string]string, in pageIn) (any, error) {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	pg, next, err := page(names, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &policyNamesOut{PolicyNames: append([]string{}, pg...), IsTruncated: next != "", Marker: next}, nil
}

type attachRoleIn struct {
	RoleName  string
	PolicyArn string
}

func (a *API) attachRolePolicy(ctx context.Context, c *awsproto.Call, in *attachRoleIn) (any, error) {
	return &empty{}, a.plane.AttachRolePolicy(ctx, c.Account, in.RoleName, in.PolicyArn)
}

func (a *API) detachRolePolicy(ctx context.Context, c *awsproto.Call, in *attachRoleIn) (any, error) {
	return &empty{}, a.plane.DetachRolePolicy(ctx, c.Account, in.RoleName, in.PolicyArn)
}

type attachedOut struct {
	AttachedPolicies []wAttachedPolicy
	IsTruncated      bool
	Marker           string `json:",omitempty"`
}

type listAttachedRoleIn struct {
	RoleName   string
	PathPrefix string
	pageIn
}

func (a *API) listAttachedRolePolicies(ctx context.Context, c *awsproto.Call, in *listAttachedRoleIn) (any, error) {
	r, err := a.plane.Role(ctx, c.Account, in.RoleName)
	if err != nil {
		return nil, err
	}
	return a.attachedPage(ctx, c, r.Attached, in.PathPrefix, in.pageIn)
}

func (a *API) attachedPage(ctx context.Context, c *awsproto.Call, arns []string, prefix string, in pageIn) (any, error) {
	var all []wAttachedPolicy
	for _, arn := range arns {
		p, _, err := a.plane.Policy(ctx, c.Account, arn)
		if err != nil {
			continue // deleted meanwhile
		}
		if iam.PathMatches(p.Path, prefix) {
			all = append(all, wAttachedPolicy{PolicyName: p.Name, PolicyArn: p.ARN})
		}
	}
	pg, next, err := page(all, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &attachedOut{AttachedPolicies: append([]wAttachedPolicy{}, pg...), IsTruncated: next != "", Marker: next}, nil
}
