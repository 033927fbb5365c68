package iamcp

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/iamstore"
)

// CreateInstanceProfile creates an instance profile.
func (p *Plane) CreateInstanceProfile(ctx context.Context, account, name, path string, tags []iam.Tag) (*iam.InstanceProfile, error) {
	if err := iam.ValidName("instanceProfileName", name, 128); err != nil {
		return nil, err
	}
	path, err := iam.NormPath(path)
	if err != nil {
		return nil, err
	}
	var out *iam.InstanceProfile
	err = p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		if st.Profiles[name] != nil {
			return iam.AlreadyExists("Instance Profile %s already exists.", name)
		}
		out = &iam.InstanceProfile{Name: name, Path: path, ID: iam.NewID("AIPA"), ARN: iam.InstanceProfileARN(account, path, name), Created: p.clock(), Tags: tags}
		tx.PutProfile(out)
		return nil
	})
	return out, err
}

func profileOf(st *iamstore.State, name string) (*iam.InstanceProfile, error) {
	ip := st.Profiles[name]
	if ip == nil {
		return nil, iam.NoSuchEntity("Instance Profile %s cannot be found.", name)
	}
	return ip, nil
}

// InstanceProfile returns a profile and its roles.
func (p *Plane) InstanceProfile(ctx context.Context, account, name string) (*iam.InstanceProfile, []*iam.Role, error) {
	st, err := p.repo.Read(ctx, account)
	if err != nil {
		return nil, nil, err
	}
	ip, err := profileOf(st, name)
	if err != nil {
		return nil, nil, err
	}
	return ip, rolesOf(st, ip), nil
}

func rolesOf(st *iamstore.State, ip *iam.InstanceProfile) []*iam.Role {
	var out []*iam.Role
	for _, n := range ip.Roles {
		if r := st.Roles[n]; r != nil {
			out = append(out, r)
		}
	}
	return out
}

// ProfileWithRoles is an instance profile and its roles.
type ProfileWithRoles struct {
	*iam.InstanceProfile
	RoleObjects []*iam.Role
}

// InstanceProfiles lists profiles under a path prefix, or those holding
// a role when role is set.
func (p *Plane) InstanceProfiles(ctx context.Context, account, pathPrefix, role string) ([]ProfileWithRoles, error) {
	st, err := p.repo.Read(ctx, account)
	if err != nil {
		return nil, err
	}
	if role != "" {
		if _, err := roleOf(st, role); err != nil {
			return nil, err
		}
	}
	var out []ProfileWithRoles
	for _, n := range sortedKeys(st.Profiles) {
		ip := st.Profiles[n]
		if !iam.PathMatches(ip.Path, pathPrefix) || (role != "" && !slices.Contains(ip.Roles, role)) {
			continue
		}
		out = append(out, ProfileWithRoles{InstanceProfile: ip, RoleObjects: rolesOf(st, ip)})
	}
	return out, nil
}

// DeleteInstanceProfile deletes a profile without roles.
func (p *Plane) DeleteInstanceProfile(ctx context.Context, account, name string) error {
	return p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		ip, err := profileOf(st, name)
		if err != nil {
			return err
		}
		if len(ip.Roles) > 0 {
			return iam.DeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
		}
		tx.DeleteProfile(name)
		return nil
	})
}

// AddRoleToInstanceProfile puts a role in a profile (one role at most).
func (p *Plane) AddRoleToInstanceProfile(ctx context.Context, account, profile, role string) error {
	return p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		ip, err := profileOf(st, profile)
		if err != nil {
			return err
		}
		if _, err := roleOf(st, role); err != nil {
			return err
		}
		if len(ip.Roles) >= 1 {
			return iam.Limit("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
		}
		ip.Roles = append(ip.Roles, role)
		tx.PutProfile(ip)
		return nil
	})
}

// RemoveRoleFromInstanceProfile takes a role out of a profile.
func (p *Plane) RemoveRoleFromInstanceProfile(ctx context.Context, account, profile, role string) error {
	return p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		ip, err := profileOf(st, profile)
		if err != nil {
			return err
		}
		i := slices.Index(ip.Roles, role)
		if i < 0 {
			return iam.NoSuchEntity("The role with name %s cannot be found.", role)
		}
		ip.Roles = slices.Delete(ip.Roles, i, i+1)
		tx.PutProfile(ip)
		return nil
	})
}

// CreateOIDCProvider registers an OpenID Connect provider.
func (p *Plane) CreateOIDCProvider(ctx context.Context, account, rawURL string, clientIDs, thumbprints []string, tags []iam.Tag) (*iam.OIDCProvider, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, iam.Validation("The URL %q is not valid: it must begin with https:// and name a host.", rawURL)
	}
	for _, t := range thumbprints {
		if len(t) != 40 {
			return nil, iam.Validation("1 validation error detected: Value '%s' at 'thumbprintList' failed to satisfy constraint: Member must have length 40", t)
		}
	}
	host := strings.TrimSuffix(u.Host+u.Path, "/")
	var out *iam.OIDCProvider
	err = p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		arn := iam.OIDCProviderARN(account, host)
		if st.OIDC[arn] != nil {
			return iam.AlreadyExists("Provider with url %s already exists.", rawURL)
		}
		out = &iam.OIDCProvider{ARN: arn, URL: host, ClientIDs: clientIDs, Thumbprints: thumbprints, Created: p.clock(), Tags: tags}
		tx.PutOIDC(out)
		return nil
	})
	return out, err
}

// OIDCProvider returns a provider by ARN.
func (p *Plane) OIDCProvider(ctx context.Context, account, arn string) (*iam.OIDCProvider, error) {
	st, err := p.repo.Read(ctx, account)
	if err != nil {
		return nil, err
	}
	o := st.OIDC[arn]
	if o == nil {
		return nil, iam.NoSuchEntity("OpenIDConnect Provider not found for arn %s", arn)
	}
	return o, nil
}

// OIDCProviders lists providers.
func (p *Plane) OIDCProviders(ctx context.Context, account string) ([]*iam.OIDCProvider, error) {
	st, err := p.repo.Read(ctx, account)
	if err != nil {
		return nil, err
	}
	var out []*iam.OIDCProvider
	for _, arn := range sortedKeys(st.OIDC) {
		out = append(out, st.OIDC[arn])
	}
	return out, nil
}

// DeleteOIDCProvider deletes a provider.
func (p *Plane) DeleteOIDCProvider(ctx context.Context, account, arn string) error {
	return p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		o := st.OIDC[arn]
		if o == nil {
			return iam.NoSuchEntity("OpenIDConnect Provider not found for arn %s", arn)
		}
		tx.DeleteOIDC(o)
		return nil
	})
}
