package eksauth

import (
	"context"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/berth-dev/berth/internal/eks"
)

// ConfigMaps reads a cluster's kube-system/aws-auth ConfigMap from the
// cluster's own API server (kubeplane.Manager does, with a short cache).
type ConfigMaps interface {
	// AWSAuth returns the ConfigMap's data, nil when it does not exist.
	AWSAuth(ctx context.Context, sc eks.Scope, c *eks.Cluster) (map[string]string, error)
}

// AWSAuth is the mapping of an aws-auth ConfigMap, as AWS's
// aws-iam-authenticator reads it: mapRoles, mapUsers and mapAccounts,
// each a YAML document in the ConfigMap's data.
type AWSAuth struct {
	Roles    []RoleMapping
	Users    []UserMapping
	Accounts []string
}

// RoleMapping is one item of mapRoles.
type RoleMapping struct {
	RoleARN  string   `json:"rolearn"`
	Username string   `json:"username"`
	Groups   []string `json:"groups,omitempty"`
}

// UserMapping is one item of mapUsers.
type UserMapping struct {
	UserARN  string   `json:"userarn"`
	Username string   `json:"username"`
	Groups   []string `json:"groups,omitempty"`
}

// ParseAWSAuth reads an aws-auth ConfigMap's data (nil data is an empty
// mapping). A key that is not valid YAML of the expected shape is an
// error naming it: EKS's authenticator then maps nobody from it either.
func ParseAWSAuth(data map[string]string) (*AWSAuth, error) {
	a := &AWSAuth{}
	for _, k := range []struct {
		key string
		v   any
	}{{"mapRoles", &a.Roles}, {"mapUsers", &a.Users}, {"mapAccounts", &a.Accounts}} {
		s := strings.TrimSpace(data[k.key])
		if s == "" {
			continue
		}
		if err := yaml.UnmarshalStrict([]byte(s), k.v); err != nil {
			return nil, fmt.Errorf("the aws-auth ConfigMap's %s is not valid: %v", k.key, err)
		}
	}
	for i, r := range a.Roles {
		if r.RoleARN == "" {
			return nil, fmt.Errorf("the aws-auth ConfigMap's mapRoles item %d has no rolearn", i)
		}
	}
	for i, u := range a.Users {
		if u.UserARN == "" {
			return nil, fmt.Errorf("the aws-auth ConfigMap's mapUsers item %d has no userarn", i)
		}
	}
	return a, nil
}

// lookup maps caller through the ConfigMap: a role session by its role's
// ARN (rolearn names the role without its path, as EKS requires), an IAM
// user by its ARN, any other principal of a mapped account by its ARN
// and no groups. The comparison ignores case, as aws-iam-authenticator's.
func (a *AWSAuth) lookup(caller Caller) (User, bool) {
	if a == nil {
		return User{}, false
	}
	canonical := caller.Canonical
	if canonical == "" {
		canonical = caller.ARN
	}
	user := func(name string, groups []string) User {
		return User{
			Username: expand(name, caller),
			UID:      "aws-iam-authenticator:" + caller.Account + ":" + caller.PrincipalID,
			Groups:   append([]string{}, groups...),
			Extra:    callerExtra(caller),
		}
	}
	if strings.Contains(canonical, ":role/") {
		for _, r := range a.Roles {
			if strings.EqualFold(r.RoleARN, canonical) {
				name := r.Username
				if name == "" {
					name = caller.ARN
				}
				return user(name, r.Groups), true
			}
		}
	} else {
		for _, u := range a.Users {
			if strings.EqualFold(u.UserARN, canonical) {
				name := u.Username
				if name == "" {
					name = canonical
				}
				return user(name, u.Groups), true
			}
		}
	}
	for _, acct := range a.Accounts {
		if acct == caller.Account && caller.Account != "" {
			return user(canonical, nil), true
		}
	}
	return User{}, false
}

// readsConfigMap says whether c maps callers through aws-auth.
func readsConfigMap(c *eks.Cluster) bool {
	return c.AuthMode == eks.AuthConfigMap || c.AuthMode == eks.AuthAPIAndConfigMap
}
