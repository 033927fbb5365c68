package iamcp

import (
	"context"
	"slices"

	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/iamstore"
)

// CreateRole is the input of CreateRole.
type CreateRole struct {
	Name, Path, TrustPolicy, Description, PermissionsBoundary string
	MaxSessionDuration                                        int
	Tags                                                      []iam.Tag
}

const maxInlineRolePolicy = 10240

// CreateRole creates a role.
func (p *Plane) CreateRole(ctx context.Context, account string, in CreateRole) (*iam.Role, error) {
	if err := iam.ValidName("roleName", in.Name, 64); err != nil {
		return nil, err
	}
	path, err := iam.NormPath(in.Path)
	if err != nil {
		return nil, err
	}
	if _, err := parseDoc(in.TrustPolicy, true, 2048); err != nil {
		return nil, err
	}
	if in.MaxSessionDuration == 0 {
		in.MaxSessionDuration = 3600
	}
	if in.MaxSessionDuration < 3600 || in.MaxSessionDuration > 43200 {
		return nil, iam.Validation("1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200", in.MaxSessionDuration)
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	var out *iam.Role
	err = p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		for name := range st.Roles {
			if equalFold(name, in.Name) {
				return iam.AlreadyExists("Role with name %s already exists.", in.Name)
			}
		}
		if in.PermissionsBoundary != "" && p.policy(st, in.PermissionsBoundary) == nil {
			return iam.Invalid("ARN %s is not valid.", in.PermissionsBoundary)
		}
		out = &iam.Role{Name: in.Name, Path: path, ID: iam.NewID("AROA"), ARN: iam.RoleARN(account, path, in.Name),
			Created: p.clock(), Description: in.Description, MaxSessionDuration: in.MaxSessionDuration,
			TrustPolicy: in.TrustPolicy, PermissionsBoundary: in.PermissionsBoundary, Tags: in.Tags}
		tx.PutRole(out)
		return nil
	})
	return out, err
}

// Role returns a role by name.
func (p *Plane) Role(ctx context.Context, account, name string) (*iam.Role, error) {
	st, err := p.repo.Read(ctx, account)
	if err != nil {
		return nil, err
	}
	return roleOf(st, name)
}

func roleOf(st *iamstore.State, name string) (*iam.Role, error) {
	if name == "" {
		return nil, iam.Validation("1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null")
	}
	r := st.Roles[name]
	if r == nil {
		return nil, iam.NoSuchEntity("The role with name %s cannot be found.", name)
	}
	return r, nil
}

// Roles lists roles under a path prefix, by name.
func (p *Plane) Roles(ctx context.Context, account, pathPrefix string) ([]*iam.Role, error) {
	st, err := p.repo.Read(ctx, account)
	if err != nil {
		return nil, err
	}
	var out []*iam.Role
	for _, name := range sortedKeys(st.Roles) {
		if r := st.Roles[name]; iam.PathMatches(r.Path, pathPrefix) {
			out = append(out, r)
		}
	}
	return out, nil
}

// updateRole applies fn to a role and writes it.
func (p *Plane) updateRole(ctx context.Context, account, name string, fn func(st *iamstore.State, r *iam.Role) error) (*iam.Role, error) {
	var out *iam.Role
	err := p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		r, err := roleOf(st, name)
		if err != nil {
			return err
		}
		if err := fn(st, r); err != nil {
			return err
		}
		tx.PutRole(r)
		out = r
		return nil
	})
	return out, err
}

// UpdateRole changes a role's description and maximum session duration.
func (p *Plane) UpdateRole(ctx context.Context, account, name string, description *string, maxSession int) (*iam.Role, error) {
	if maxSession != 0 && (maxSession < 3600 || maxSession > 43200) {
		return nil, iam.Validation("1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200", maxSession)
	}
	return p.updateRole(ctx, account, name, func(_ *iamstore.State, r *iam.Role) error {
		if description != nil {
			r.Description = *description
		}
		if maxSession != 0 {
			r.MaxSessionDuration = maxSession
		}
		return nil
	})
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (p *Plane) UpdateAssumeRolePolicy(ctx context.Context, account, name, doc string) error {
	if _, err := parseDoc(doc, true, 2048); err != nil {
		return err
	}
	_, err := p.updateRole(ctx, account, name, func(_ *iamstore.State, r *iam.Role) error {
		r.TrustPolicy = doc
		return nil
	})
	return err
}

// DeleteRole deletes a role with no policies and in no instance profile.
func (p *Plane) DeleteRole(ctx context.Context, account, name string) error {
	return p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		r, err := roleOf(st, name)
		if err != nil {
			return err
		}
		if len(r.InlinePolicies) > 0 {
			return iam.DeleteConflict("Cannot delete entity, must delete policies first.")
		}
		if len(r.Attached) > 0 {
			return iam.DeleteConflict("Cannot delete entity, must detach all policies first.")
		}
		for _, ip := range st.Profiles {
			if slices.Contains(ip.Roles, name) {
				return iam.DeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
			}
		}
		tx.DeleteRole(name)
		return nil
	})
}

// TagRole adds tags; UntagRole removes them.
func (p *Plane) TagRole(ctx context.Context, account, name string, tags []iam.Tag) error {
	_, err := p.updateRole(ctx, account, name, func(_ *iamstore.State, r *iam.Role) error {
		r.Tags = mergeTags(r.Tags, tags)
		return checkTags(r.Tags)
	})
	return err
}

func (p *Plane) UntagRole(ctx context.Context, account, name string, keys []string) error {
	_, err := p.updateRole(ctx, account, name, func(_ *iamstore.State, r *iam.Role) error {
		r.Tags = removeTags(r.Tags, keys)
		return nil
	})
	return err
}

// PutRolePolicy writes an inline policy of a role.
func (p *Plane) PutRolePolicy(ctx context.Context, account, role, policy, doc string) error {
	if err := iam.ValidName("policyName", policy, 128); err != nil {
		return err
	}
	if _, err := parseDoc(doc, false, maxInlineRolePolicy); err != nil {
		return err
	}
	_, err := p.updateRole(ctx, account, role, func(_ *iamstore.State, r *iam.Role) error {
		if r.InlinePolicies == nil {
			r.InlinePolicies = map[string]string{}
		}
		r.InlinePolicies[policy] = doc
		return nil
	})
	return err
}

// RolePolicy returns an inline policy's document.
func (p *Plane) RolePolicy(ctx context.Context, account, role, policy string) (string, error) {
	r, err := p.Role(ctx, account, role)
	if err != nil {
		return "", err
	}
	doc, ok := r.InlinePolicies[policy]
	if !ok {
		return "", iam.NoSuchEntity("The role policy with name %s cannot be found.", policy)
	}
	return doc, nil
}

// DeleteRolePolicy deletes an inline policy.
func (p *Plane) DeleteRolePolicy(ctx context.Context, account, role, policy string) error {
	_, err := p.updateRole(ctx, account, role, func(_ *iamstore.State, r *iam.Role) error {
		if _, ok := r.InlinePolicies[policy]; !ok {
			return iam.NoSuchEntity("The role policy with name %s cannot be found.", policy)
		}
		delete(r.InlinePolicies, policy)
		return nil
	})
	return err
}

// AttachRolePolicy attaches a managed policy to a role.
func (p *Plane) AttachRolePolicy(ctx context.Context, account, role, arn string) error {
	_, err := p.updateRole(ctx, account, role, func(st *iamstore.State, r *iam.Role) error {
		if p.policy(st, arn) == nil {
			return iam.NoSuchEntity("Policy %s does not exist or is not attachable.", arn)
		}
		if !slices.Contains(r.Attached, arn) {
			if len(r.Attached) >= 20 {
				return iam.Limit("Cannot exceed quota for PoliciesPerRole: 20")
			}
			r.Attached = append(r.Attached, arn)
		}
		return nil
	})
	return err
}

// DetachRolePolicy detaches a managed policy from a role.
func (p *Plane) DetachRolePolicy(ctx context.Context, account, role, arn string) error {
	_, err := p.updateRole(ctx, account, role, func(_ *iamstore.State, r *iam.Role) error {
		i := slices.Index(r.Attached, arn)
		if i < 0 {
			return iam.NoSuchEntity("Policy %s was not found.", arn)
		}
		r.Attached = slices.Delete(r.Attached, i, i+1)
		return nil
	})
	return err
}

// policy returns a managed policy (AWS's or the account's) by ARN, or nil.
func (p *Plane) policy(st *iamstore.State, arn string) *iam.Policy {
	if iam.IsAWSManagedARN(arn) {
		return iam.AWSManagedPolicy(arn)
	}
	return st.Policies[arn]
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
