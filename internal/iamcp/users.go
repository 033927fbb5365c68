package iamcp

import (
	"context"
	"slices"

	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/iamstore"
)

const maxAccessKeysPerUser = 2

// CreateUser creates a user.
func (p *Plane) CreateUser(ctx context.Context, account, name, path string, tags []iam.Tag) (*iam.User, error) {
	if err := iam.ValidName("userName", name, 64); err != nil {
		return nil, err
	}
	path, err := iam.NormPath(path)
	if err != nil {
		return nil, err
	}
	if err := checkTags(tags); err != nil {
		return nil, err
	}
	var out *iam.User
	err = p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		for n := range st.Users {
			if equalFold(n, name) {
				return iam.AlreadyExists("User with name %s already exists.", name)
			}
		}
		out = &iam.User{Name: name, Path: path, ID: iam.NewID("AIDA"), ARN: iam.UserARN(account, path, name), Created: p.clock(), Tags: tags}
		tx.PutUser(out)
		return nil
	})
	return out, err
}

func userOf(st *iamstore.State, name string) (*iam.User, error) {
	u := st.Users[name]
	if u == nil {
		return nil, iam.NoSuchEntity("The user with name %s cannot be found.", name)
	}
	return u, nil
}

// User returns a user by name.
func (p *Plane) User(ctx context.Context, account, name string) (*iam.User, error) {
	st, err := p.repo.Read(ctx, account)
	if err != nil {
		return nil, err
	}
	return userOf(st, name)
}

// Users lists users under a path prefix.
func (p *Plane) Users(ctx context.Context, account, pathPrefix string) ([]*iam.User, error) {
	st, err := p.repo.Read(ctx, account)
	if err != nil {
		return nil, err
	}
	var out []*iam.User
	for _, n := range sortedKeys(st.Users) {
		if u := st.Users[n]; iam.PathMatches(u.Path, pathPrefix) {
			out = append(out, u)
		}
	}
	return out, nil
}

func (p *Plane) updateUser(ctx context.Context, account, name string, fn func(st *iamstore.State, u *iam.User) error) error {
	return p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		u, err := userOf(st, name)
		if err != nil {
			return err
		}
		if err := fn(st, u); err != nil {
			return err
		}
		tx.PutUser(u)
		return nil
	})
}

// DeleteUser deletes a user without keys or policies.
func (p *Plane) DeleteUser(ctx context.Context, account, name string) error {
	return p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		u, err := userOf(st, name)
		if err != nil {
			return err
		}
		for _, k := range st.Keys {
			if k.User == name {
				return iam.DeleteConflict("Cannot delete entity, must delete access keys first.")
			}
		}
		if len(u.InlinePolicies) > 0 {
			return iam.DeleteConflict("Cannot delete entity, must delete policies first.")
		}
		if len(u.Attached) > 0 {
			return iam.DeleteConflict("Cannot delete entity, must detach all policies first.")
		}
		tx.DeleteUser(name)
		return nil
	})
}

// TagUser and UntagUser change a user's tags.
func (p *Plane) TagUser(ctx context.Context, account, name string, tags []iam.Tag) error {
	return p.updateUser(ctx, account, name, func(_ *iamstore.State, u *iam.User) error {
		u.Tags = mergeTags(u.Tags, tags)
		return checkTags(u.Tags)
	})
}

func (p *Plane) UntagUser(ctx context.Context, account, name string, keys []string) error {
	return p.updateUser(ctx, account, name, func(_ *iamstore.State, u *iam.User) error {
		u.Tags = removeTags(u.Tags, keys)
		return nil
	})
}

// PutUserPolicy and its siblings manage a user's inline and attached
// policies as the role functions do a role's.
func (p *Plane) PutUserPolicy(ctx context.Context, account, user, policy, doc string) error {
	if err := iam.ValidName("policyName", policy, 128); err != nil {
		return err
	}
	if _, err := parseDoc(doc, false, 2048); err != nil {
		return err
	}
	return p.updateUser(ctx, account, user, func(_ *iamstore.State, u *iam.User) error {
		if u.InlinePolicies == nil {
			u.InlinePolicies = map[string]string{}
		}
		u.InlinePolicies[policy] = doc
		return nil
	})
}

func (p *Plane) UserPolicy(ctx context.Context, account, user, policy string) (string, error) {
	u, err := p.User(ctx, account, user)
	if err != nil {
		return "", err
	}
	doc, ok := u.InlinePolicies[policy]
	if !ok {
		return "", iam.NoSuchEntity("The user policy with name %s cannot be found.", policy)
	}
	return doc, nil
}

func (p *Plane) DeleteUserPolicy(ctx context.Context, account, user, policy string) error {
	return p.updateUser(ctx, account, user, func(_ *iamstore.State, u *iam.User) error {
		if _, ok := u.InlinePolicies[policy]; !ok {
			return iam.NoSuchEntity("The user policy with name %s cannot be found.", policy)
		}
		delete(u.InlinePolicies, policy)
		return nil
	})
}

func (p *Plane) AttachUserPolicy(ctx context.Context, account, user, arn string) error {
	return p.updateUser(ctx, account, user, func(st *iamstore.State, u *iam.User) error {
		if p.policy(st, arn) == nil {
			return iam.NoSuchEntity("Policy %s does not exist or is not attachable.", arn)
		}
		if !slices.Contains(u.Attached, arn) {
			u.Attached = append(u.Attached, arn)
		}
		return nil
	})
}

func (p *Plane) DetachUserPolicy(ctx context.Context, account, user, arn string) error {
	return p.updateUser(ctx, account, user, func(_ *iamstore.State, u *iam.User) error {
		i := slices.Index(u.Attached, arn)
		if i < 0 {
			return iam.NoSuchEntity("Policy %s was not found.", arn)
		}
		u.Attached = slices.Delete(u.Attached, i, i+1)
		return nil
	})
}

// CreateAccessKey issues a key for a user (at most two).
func (p *Plane) CreateAccessKey(ctx context.Context, account, user string) (*iam.AccessKey, error) {
	var out *iam.AccessKey
	err := p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		u, err := userOf(st, user)
		if err != nil {
			return err
		}
		n := 0
		for _, k := range st.Keys {
			if k.User == user {
				n++
			}
		}
		if n >= maxAccessKeysPerUser {
			return iam.Limit("Cannot exceed quota for AccessKeysPerUser: %d", maxAccessKeysPerUser)
		}
		out = &iam.AccessKey{ID: iam.NewID("AKIA"), Secret: iam.NewSecret(), User: user, Status: "Active", Created: p.clock(),
			UserARN: u.ARN, UserID: u.ID}
		tx.PutKey(out)
		return nil
	})
	return out, err
}

// AccessKeys lists a user's keys (secrets included; the API leaves them out).
func (p *Plane) AccessKeys(ctx context.Context, account, user string) ([]*iam.AccessKey, error) {
	st, err := p.repo.Read(ctx, account)
	if err != nil {
		return nil, err
	}
	if _, err := userOf(st, user); err != nil {
		return nil, err
	}
	var out []*iam.AccessKey
	for _, id := range sortedKeys(st.Keys) {
		if k := st.Keys[id]; k.User == user {
			out = append(out, k)
		}
	}
	return out, nil
}

func keyOf(st *iamstore.State, user, id string) (*iam.AccessKey, error) {
	k := st.Keys[id]
	if k == nil || (user != "" && k.User != user) {
		return nil, iam.NoSuchEntity("The Access Key with id %s cannot be found.", id)
	}
	return k, nil
}

// UpdateAccessKey sets a key Active or Inactive.
func (p *Plane) UpdateAccessKey(ctx context.Context, account, user, id, status string) error {
	if status != "Active" && status != "Inactive" {
		return iam.Validation("1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", status)
	}
	return p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		k, err := keyOf(st, user, id)
		if err != nil {
			return err
		}
		k.Status = status
		tx.PutKey(k)
		return nil
	})
}

// DeleteAccessKey deletes a key.
func (p *Plane) DeleteAccessKey(ctx context.Context, account, user, id string) error {
	return p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		if _, err := keyOf(st, user, id); err != nil {
			return err
		}
		tx.DeleteKey(id)
		return nil
	})
}
