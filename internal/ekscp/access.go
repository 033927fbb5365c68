package ekscp

import (
	"context"
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/eks"
)

// AccessEntryInput is a CreateAccessEntry request.
type AccessEntryInput struct {
	PrincipalARN string
	Groups       []string
	Username     string
	Type         string
	Tags         map[string]string
}

// entryCluster checks that a cluster takes access entries.
func entryCluster(c *eks.Cluster) error {
	if c.Status == eks.StatusDeleting {
		return eks.InUsef("Cluster %s is being deleted.", c.Name)
	}
	if c.AuthMode == eks.AuthConfigMap {
		return eks.InvalidRequestf("The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.")
	}
	return nil
}

// CreateAccessEntry adds an access entry to a cluster.
func (p *Plane) CreateAccessEntry(ctx context.Context, sc eks.Scope, cluster string, in AccessEntryInput) (*eks.AccessEntry, error) {
	pr, err := eks.ParsePrincipal(in.PrincipalARN)
	if err != nil {
		return nil, err
	}
	if in.Type == "" {
		in.Type = "STANDARD"
	}
	if !slices.Contains(eks.AccessEntryTypes, in.Type) {
		return nil, eks.InvalidParameterf("The access entry type %q is not valid; use one of %s.", in.Type, strings.Join(eks.AccessEntryTypes, ", "))
	}
	if err := eks.ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	if in.Type != "STANDARD" {
		if len(in.Groups) > 0 || in.Username != "" {
			return nil, eks.InvalidParameterf("An access entry of type %s takes no kubernetesGroups or username: EKS sets them.", in.Type)
		}
		if pr.Kind != "role" {
			return nil, eks.InvalidParameterf("An access entry of type %s must be for an IAM role.", in.Type)
		}
		in.Username = "system:node:{{EC2PrivateDNSName}}"
		if strings.HasPrefix(in.Type, "FARGATE") {
			in.Username = "system:node:{{SessionName}}"
		}
	} else {
		if err := eks.ValidateGroups(in.Groups); err != nil {
			return nil, err
		}
		if in.Username == "" {
			in.Username = eks.DefaultUsername(pr, in.PrincipalARN)
		} else if err := eks.ValidateUsername(in.Username); err != nil {
			return nil, err
		}
	}
	now := p.now().UTC()
	e := &eks.AccessEntry{
		PrincipalARN: in.PrincipalARN, ARN: eks.AccessEntryARN(sc, cluster, pr, p.newID()), KubernetesGroups: compact(in.Groups),
		Username: in.Username, Type: in.Type, CreatedAt: now, ModifiedAt: now, Tags: in.Tags,
	}
	_, err = p.repo.Update(ctx, sc, cluster, func(c *eks.Cluster) (*eks.Cluster, error) {
		if err := entryCluster(c); err != nil {
			return nil, err
		}
		if c.Access[in.PrincipalARN] != nil {
			return nil, eks.InUsef("The specified access entry resource is already in use on this cluster.")
		}
		if len(c.Access) >= 2048 {
			return nil, eks.LimitExceededf("Cluster %s has the maximum of 2048 access entries.", cluster)
		}
		c.Access[in.PrincipalARN] = e
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

func compact(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Compact(slices.Sorted(slices.Values(s)))
}

func entryNotFound(cluster, principal string) error {
	return eks.NotFoundf("The specified principalArn %s could not be found in cluster %s; create an access entry for it first.", principal, cluster)
}

// DescribeAccessEntry returns an access entry.
func (p *Plane) DescribeAccessEntry(ctx context.Context, sc eks.Scope, cluster, principal string) (*eks.AccessEntry, error) {
	c, err := p.repo.Get(ctx, sc, cluster)
	if err != nil {
		return nil, err
	}
	e := c.Access[principal]
	if e == nil {
		return nil, entryNotFound(cluster, principal)
	}
	return e, nil
}

// ListAccessEntries returns the principal ARNs of a cluster's access
// entries, sorted; with policyARN, only those associated with it.
func (p *Plane) ListAccessEntries(ctx context.Context, sc eks.Scope, cluster, policyARN string) ([]string, error) {
	c, err := p.repo.Get(ctx, sc, cluster)
	if err != nil {
		return nil, err
	}
	if policyARN != "" && !eks.IsAccessPolicy(policyARN) {
		return nil, eks.InvalidParameterf("The access policy %s does not exist; list them with list-access-policies.", policyARN)
	}
	var out []string
	for arn, e := range c.Access {
		if policyARN == "" || e.Policy(policyARN) != nil {
			out = append(out, arn)
		}
	}
	slices.Sort(out)
	return out, nil
}

// UpdateAccessEntry changes an entry's groups and username.
func (p *Plane) UpdateAccessEntry(ctx context.Context, sc eks.Scope, cluster, principal string, groups []string, username *string) (*eks.AccessEntry, error) {
	if err := eks.ValidateGroups(groups); err != nil {
		return nil, err
	}
	if username != nil && *username != "" {
		if err := eks.ValidateUsername(*username); err != nil {
			return nil, err
		}
	}
	var out *eks.AccessEntry
	_, err := p.repo.Update(ctx, sc, cluster, func(c *eks.Cluster) (*eks.Cluster, error) {
		if err := entryCluster(c); err != nil {
			return nil, err
		}
		e := c.Access[principal]
		if e == nil {
			return nil, entryNotFound(cluster, principal)
		}
		if e.Type != "STANDARD" && (groups != nil || username != nil) {
			return nil, eks.InvalidParameterf("An access entry of type %s takes no kubernetesGroups or username.", e.Type)
		}
		if groups != nil {
			e.KubernetesGroups = compact(groups)
		}
		if username != nil && *username != "" {
			e.Username = *username
		}
		e.ModifiedAt = p.now().UTC()
		out = e
		return c, nil
	})
	return out, err
}

// DeleteAccessEntry removes an access entry and its policies.
func (p *Plane) DeleteAccessEntry(ctx context.Context, sc eks.Scope, cluster, principal string) error {
	_, err := p.repo.Update(ctx, sc, cluster, func(c *eks.Cluster) (*eks.Cluster, error) {
		if c.Access[principal] == nil {
			return nil, entryNotFound(cluster, principal)
		}
		delete(c.Access, principal)
		return c, nil
	})
	return err
}

// AssociateAccessPolicy associates (or re-scopes) an access policy.
func (p *Plane) AssociateAccessPolicy(ctx context.Context, sc eks.Scope, cluster, principal, policyARN, scopeType string, namespaces []string) (*eks.AssociatedPolicy, error) {
	if !eks.IsAccessPolicy(policyARN) {
		return nil, eks.InvalidParameterf("The access policy %s does not exist; list them with list-access-policies.", policyARN)
	}
	if err := eks.ValidateScope(scopeType, namespaces); err != nil {
		return nil, err
	}
	now := p.now().UTC()
	var out *eks.AssociatedPolicy
	_, err := p.repo.Update(ctx, sc, cluster, func(c *eks.Cluster) (*eks.Cluster, error) {
		if err := entryCluster(c); err != nil {
			return nil, err
		}
		e := c.Access[principal]
		if e == nil {
			return nil, entryNotFound(cluster, principal)
		}
		if e.Type != "STANDARD" {
			return nil, eks.InvalidRequestf("Access policies can be associated only with access entries of type STANDARD; this one is %s.", e.Type)
		}
		ap := e.Policy(policyARN)
		if ap == nil {
			ap = &eks.AssociatedPolicy{PolicyARN: policyARN, AssociatedAt: now}
			e.Policies = append(e.Policies, ap)
		}
		ap.ScopeType, ap.Namespaces, ap.ModifiedAt = scopeType, compact(namespaces), now
		out = ap
		return c, nil
	})
	return out, err
}

// DisassociateAccessPolicy removes an access policy from an entry.
func (p *Plane) DisassociateAccessPolicy(ctx context.Context, sc eks.Scope, cluster, principal, policyARN string) error {
	_, err := p.repo.Update(ctx, sc, cluster, func(c *eks.Cluster) (*eks.Cluster, error) {
		e := c.Access[principal]
		if e == nil {
			return nil, entryNotFound(cluster, principal)
		}
		i := slices.IndexFunc(e.Policies, func(a *eks.AssociatedPolicy) bool { return a.PolicyARN == policyARN })
		if i < 0 {
			return nil, eks.NotFoundf("The access policy %s is not associated with %s.", policyARN, principal)
		}
		e.Policies = slices.Delete(e.Policies, i, i+1)
		return c, nil
	})
	return err
}

// ListAssociatedAccessPolicies returns an entry's associated policies.
func (p *Plane) ListAssociatedAccessPolicies(ctx context.Context, sc eks.Scope, cluster, principal string) ([]*eks.AssociatedPolicy, error) {
	e, err := p.DescribeAccessEntry(ctx, sc, cluster, principal)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(e.Policies)
	slices.SortFunc(out, func(a, b *eks.AssociatedPolicy) int { return strings.Compare(a.PolicyARN, b.PolicyARN) })
	return out, nil
}
