package iamcp

import (
	"context"
	"slices"
	"strconv"

	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/iamstore"
)

const maxPolicyVersions = 5

// CreatePolicy creates a customer-managed policy (version v1, default).
func (p *Plane) CreatePolicy(ctx context.Context, account, name, path, description, doc string, tags []iam.Tag) (*iam.Policy, error) {
	if err := iam.ValidName("policyName", name, 128); err != nil {
		return nil, err
	}
	path, err := iam.NormPath(path)
	if err != nil {
		return nil, err
	}
	if _, err := parseDoc(doc, false, 6144); err != nil {
		return nil, err
	}
	if err := checkTags(tags); err != nil {
		return nil, err
	}
	var out *iam.Policy
	err = p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		arn := iam.PolicyARN(account, path, name)
		for _, pol := range st.Policies {
			if pol.Name == name {
				return iam.AlreadyExists("A policy called %s already exists. Duplicate names are not allowed.", name)
			}
		}
		now := p.clock()
		out = &iam.Policy{Name: name, Path: path, ID: iam.NewID("ANPA"), ARN: arn, Description: description, Created: now, Updated: now,
			DefaultVersion: "v1", Versions: []iam.PolicyVersion{{ID: "v1", Document: doc, Created: now}}, Tags: tags, NextVersion: 2}
		tx.PutPolicy(out)
		return nil
	})
	return out, err
}

// Policy returns a managed policy by ARN and how many entities it is
// attached to.
func (p *Plane) Policy(ctx context.Context, account, arn string) (*iam.Policy, int, error) {
	st, err := p.repo.Read(ctx, account)
	if err != nil {
		return nil, 0, err
	}
	pol := p.policy(st, arn)
	if pol == nil {
		return nil, 0, iam.NoSuchEntity("Policy %s does not exist or is not attachable.", arn)
	}
	return pol, attachments(st, arn), nil
}

func attachments(st *iamstore.State, arn string) int {
	n := 0
	for _, r := range st.Roles {
		if slices.Contains(r.Attached, arn) {
			n++
		}
	}
	for _, u := range st.Users {
		if slices.Contains(u.Attached, arn) {
			n++
		}
	}
	return n
}

// ListedPolicy is a policy with its attachment count.
type ListedPolicy struct {
	*iam.Policy
	Attachments int
}

// Policies lists managed policies: scope All, AWS or Local; onlyAttached
// keeps those attached somewhere.
func (p *Plane) Policies(ctx context.Context, account, scope, pathPrefix string, onlyAttached bool) ([]ListedPolicy, error) {
	st, err := p.repo.Read(ctx, account)
	if err != nil {
		return nil, err
	}
	var all []*iam.Policy
	if scope == "" || scope == "All" || scope == "AWS" {
		all = append(all, iam.AWSManagedPolicies()...)
	}
	if scope == "" || scope == "All" || scope == "Local" {
		for _, arn := range sortedKeys(st.Policies) {
			all = append(all, st.Policies[arn])
		}
	}
	var out []ListedPolicy
	for _, pol := range all {
		n := attachments(st, pol.ARN)
		if (onlyAttached && n == 0) || !iam.PathMatches(pol.Path, pathPrefix) {
			continue
		}
		out = append(out, ListedPolicy{Policy: pol, Attachments: n})
	}
	return out, nil
}

// updatePolicy applies fn to a customer-managed policy and writes it.
func (p *Plane) updatePolicy(ctx context.Context, account, arn string, fn func(st *iamstore.State, pol *iam.Policy) error) (*iam.Policy, error) {
	var out *iam.Policy
	err := p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		if iam.IsAWSManagedARN(arn) && iam.AWSManagedPolicy(arn) != nil {
			return iam.Invalid("Policy %s is an AWS managed policy and cannot be changed.", arn)
		}
		pol := st.Policies[arn]
		if pol == nil {
			return iam.NoSuchEntity("Policy %s does not exist or is not attachable.", arn)
		}
		if err := fn(st, pol); err != nil {
			return err
		}
		tx.PutPolicy(pol)
		out = pol
		return nil
	})
	return out, err
}

// DeletePolicy deletes a customer-managed policy that is attached nowhere
// and has only its default version.
func (p *Plane) DeletePolicy(ctx context.Context, account, arn string) error {
	return p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		if iam.IsAWSManagedARN(arn) && iam.AWSManagedPolicy(arn) != nil {
			return iam.Invalid("Policy %s is an AWS managed policy and cannot be deleted.", arn)
		}
		pol := st.Policies[arn]
		if pol == nil {
			return iam.NoSuchEntity("Policy %s does not exist or is not attachable.", arn)
		}
		if attachments(st, arn) > 0 {
			return iam.DeleteConflict("Cannot delete a policy attached to entities.")
		}
		if len(pol.Versions) > 1 {
			return iam.DeleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
		}
		tx.DeletePolicy(pol)
		return nil
	})
}

// CreatePolicyVersion adds a version (at most five).
func (p *Plane) CreatePolicyVersion(ctx context.Context, account, arn, doc string, setDefault bool) (*iam.PolicyVersion, error) {
	if _, err := parseDoc(doc, false, 6144); err != nil {
		return nil, err
	}
	var out iam.PolicyVersion
	_, err := p.updatePolicy(ctx, account, arn, func(_ *iamstore.State, pol *iam.Policy) error {
		if len(pol.Versions) >= maxPolicyVersions {
			return iam.Limit("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
		}
		now := p.clock()
		out = iam.PolicyVersion{ID: "v" + strconv.Itoa(pol.NextVersion), Document: doc, Created: now}
		pol.NextVersion++
		pol.Versions = append(pol.Versions, out)
		pol.Updated = now
		if setDefault {
			pol.DefaultVersion = out.ID
		}
		return nil
	})
	return &out, err
}

// PolicyVersion returns one version of a policy and whether it is the
// default.
func (p *Plane) PolicyVersion(ctx context.Context, account, arn, id string) (*iam.PolicyVersion, bool, error) {
	pol, _, err := p.Policy(ctx, account, arn)
	if err != nil {
		return nil, false, err
	}
	for _, v := range pol.Versions {
		if v.ID == id {
			return &v, v.ID == pol.DefaultVersion, nil
		}
	}
	return nil, false, iam.NoSuchEntity("Policy %s version %s does not exist or is not attachable.", arn, id)
}

// DeletePolicyVersion deletes a non-default version.
func (p *Plane) DeletePolicyVersion(ctx context.Context, account, arn, id string) error {
	_, err := p.updatePolicy(ctx, account, arn, func(_ *iamstore.State, pol *iam.Policy) error {
		i := slices.IndexFunc(pol.Versions, func(v iam.PolicyVersion) bool { return v.ID == id })
		if i < 0 {
			return iam.NoSuchEntity("Policy %s version %s does not exist or is not attachable.", arn, id)
		}
		if id == pol.DefaultVersion {
			return iam.DeleteConflict("Cannot delete the default version of a policy.")
		}
		pol.Versions = slices.Delete(pol.Versions, i, i+1)
		return nil
	})
	return err
}

// SetDefaultPolicyVersion makes a version the default.
func (p *Plane) SetDefaultPolicyVersion(ctx context.Context, account, arn, id string) error {
	_, err := p.updatePolicy(ctx, account, arn, func(_ *iamstore.State, pol *iam.Policy) error {
		if !slices.ContainsFunc(pol.Versions, func(v iam.PolicyVersion) bool { return v.ID == id }) {
			return iam.NoSuchEntity("Policy %s version %s does not exist or is not attachable.", arn, id)
		}
		pol.DefaultVersion = id
		pol.Updated = p.clock()
		return nil
	})
	return err
}

// TagPolicy and UntagPolicy change a policy's tags.
func (p *Plane) TagPolicy(ctx context.Context, account, arn string, tags []iam.Tag) error {
	_, err := p.updatePolicy(ctx, account, arn, func(_ *iamstore.State, pol *iam.Policy) error {
		pol.Tags = mergeTags(pol.Tags, tags)
		return checkTags(pol.Tags)
	})
	return err
}

func (p *Plane) UntagPolicy(ctx context.Context, account, arn string, keys []string) error {
	_, err := p.updatePolicy(ctx, account, arn, func(_ *iamstore.State, pol *iam.Policy) error {
		pol.Tags = removeTags(pol.Tags, keys)
		return nil
	})
	return err
}
