package eks

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

var (
	clusterNameRE = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9\-_]*$`)
	roleARNRE     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$`)
	principalRE   = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):(role|user)/([\w+=,.@/-]+)$`)
	namespaceRE   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?\*?$`)
)

// ValidateClusterName checks a cluster name (1-100 characters, letters,
// digits, hyphens and underscores, starting with a letter or digit).
func ValidateClusterName(name string) error {
	if name == "" || len(name) > 100 || !clusterNameRE.MatchString(name) {
		return InvalidParameterf("The cluster name %q is not valid: use 1-100 letters, digits, hyphens and underscores, starting with a letter or digit.", name)
	}
	return nil
}

// ValidateRoleARN checks a cluster's IAM role ARN.
func ValidateRoleARN(arn string) error {
	if !roleARNRE.MatchString(arn) {
		return InvalidParameterf("The role ARN %q is not valid: it must be an IAM role ARN such as arn:aws:iam::123456789012:role/eks-cluster-role.", arn)
	}
	return nil
}

// ValidateSubnets checks a new cluster's subnets: EKS wants at least two
// (in two availability zones).
func ValidateSubnets(ids []string) error {
	distinct := slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(distinct) < 2 {
		return InvalidParameterf("Subnets specified must be in at least two different AZs: pass at least two subnet IDs in resourcesVpcConfig.subnetIds.")
	}
	for _, id := range distinct {
		if strings.TrimSpace(id) == "" {
			return InvalidParameterf("A subnet ID in resourcesVpcConfig.subnetIds is empty.")
		}
	}
	return nil
}

// ValidateCIDRs checks publicAccessCidrs.
func ValidateCIDRs(cidrs []string) error {
	for _, c := range cidrs {
		if _, err := netip.ParsePrefix(c); err != nil {
			return InvalidParameterf("The CIDR block %q in publicAccessCidrs is not valid.", c)
		}
	}
	return nil
}

// ValidateServiceCIDR checks kubernetesNetworkConfig.serviceIpv4Cidr: a
// private IPv4 block from /12 to /24.
func ValidateServiceCIDR(c string) error {
	p, err := netip.ParsePrefix(c)
	if err != nil || !p.Addr().Is4() || !p.Addr().IsPrivate() || p.Bits() < 12 || p.Bits() > 24 {
		return InvalidParameterf("The service CIDR %q is not valid: it must be a private IPv4 block (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16) between /12 and /24.", c)
	}
	return nil
}

// ValidateLogTypes checks log types.
func ValidateLogTypes(types []string) error {
	for _, t := range types {
		if !slices.Contains(LogTypes, t) {
			return InvalidParameterf("The log type %q is not valid; valid types are %s.", t, strings.Join(LogTypes, ", "))
		}
	}
	return nil
}

// ValidateAuthMode checks an authentication mode.
func ValidateAuthMode(m string) error {
	switch m {
	case AuthConfigMap, AuthAPIAndConfigMap, AuthAPI:
		return nil
	}
	return InvalidParameterf("The authentication mode %q is not valid; use API, API_AND_CONFIG_MAP or CONFIG_MAP.", m)
}

// ValidateAuthModeChange checks a change of authentication mode: EKS
// only moves from CONFIG_MAP to API_AND_CONFIG_MAP to API.
func ValidateAuthModeChange(from, to string) error {
	if err := ValidateAuthMode(to); err != nil {
		return err
	}
	rank := map[string]int{AuthConfigMap: 0, AuthAPIAndConfigMap: 1, AuthAPI: 2}
	if rank[to] < rank[from] {
		return InvalidParameterf("Unsupported authentication mode update from %s to %s: the mode can only move from CONFIG_MAP to API_AND_CONFIG_MAP to API.", from, to)
	}
	if to == from {
		return InvalidParameterf("The cluster's authentication mode is already %s.", to)
	}
	return nil
}

// Principal is a parsed IAM principal ARN.
type Principal struct {
	Account string
	Kind    string // role or user
	Path    string // path and name, e.g. "eks/admin"
}

// Name returns the principal's name (the last path segment).
func (p Principal) Name() string {
	i := strings.LastIndex(p.Path, "/")
	return p.Path[i+1:]
}

// ParsePrincipal parses an IAM role or user ARN.
func ParsePrincipal(arn string) (Principal, error) {
	m := principalRE.FindStringSubmatch(arn)
	if m == nil {
		return Principal{}, InvalidParameterf("The principal ARN %q is not valid: it must be an IAM role or user ARN.", arn)
	}
	return Principal{Account: m[1], Kind: m[2], Path: m[3]}, nil
}

// Access entry types.
var AccessEntryTypes = []string{"STANDARD", "FARGATE_LINUX", "EC2_LINUX", "EC2_WINDOWS", "EC2", "HYBRID_LINUX", "HYPERPOD_LINUX"}

// ValidateGroups checks an access entry's Kubernetes groups: none may
// start with "system:".
func ValidateGroups(groups []string) error {
	for _, g := range groups {
		if g == "" || strings.HasPrefix(g, "system:") {
			return InvalidParameterf("The Kubernetes group %q is not valid: group names may not be empty or start with system:.", g)
		}
	}
	return nil
}

// ValidateUsername checks an access entry's Kubernetes username.
func ValidateUsername(u string) error {
	if strings.HasPrefix(u, "system:") || strings.HasPrefix(u, "amazon:") || strings.HasPrefix(u, "aws:") || strings.HasPrefix(u, "eks:") || strings.HasPrefix(u, "iam:") {
		return InvalidParameterf("The username %q is not valid: it may not start with system:, amazon:, aws:, eks: or iam:.", u)
	}
	return nil
}

// DefaultUsername is the username EKS gives an access entry without one.
func DefaultUsername(p Principal, arn string) string {
	if p.Kind == "role" {
		return fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/{{SessionName}}", p.Account, p.Name())
	}
	return arn
}

// ValidateScope checks an access scope.
func ValidateScope(scopeType string, namespaces []string) error {
	switch scopeType {
	case ScopeCluster:
		if len(namespaces) > 0 {
			return InvalidParameterf("An access scope of type cluster takes no namespaces.")
		}
	case ScopeNamespace:
		if len(namespaces) == 0 {
			return InvalidParameterf("An access scope of type namespace needs at least one namespace.")
		}
		for _, n := range namespaces {
			if len(n) > 63 || !namespaceRE.MatchString(n) {
				return InvalidParameterf("The namespace %q in the access scope is not valid.", n)
			}
		}
	default:
		return InvalidParameterf("The access scope type %q is not valid; use cluster or namespace.", scopeType)
	}
	return nil
}

// ValidateTags checks tags: at most 50, keys 1-128 characters, values up
// to 256, no aws: prefix.
func ValidateTags(tags map[string]string) error {
	if len(tags) > 50 {
		return InvalidParameterf("A resource can have at most 50 tags.")
	}
	for k, v := range tags {
		if k == "" || len(k) > 128 || len(v) > 256 {
			return InvalidParameterf("The tag %q is not valid: keys are 1-128 characters, values up to 256.", k)
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return InvalidParameterf("The tag key %q is not valid: the aws: prefix is reserved.", k)
		}
	}
	return nil
}

// ClusterARN returns a cluster's ARN.
func ClusterARN(sc Scope, name string) string {
	return fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", sc.Region, sc.Account, name)
}

// AccessEntryARN returns an access entry's ARN.
func AccessEntryARN(sc Scope, cluster string, p Principal, id string) string {
	return fmt.Sprintf("arn:aws:eks:%s:%s:access-entry/%s/%s/%s/%s/%s", sc.Region, sc.Account, cluster, p.Kind, p.Account, p.Name(), id)
}

// ParseARN splits an EKS ARN into its scope, resource type ("cluster",
// "access-entry") and the cluster name.
func ParseARN(arn string) (Scope, string, string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "eks" {
		return Scope{}, "", "", false
	}
	typ, rest, ok := strings.Cut(parts[5], "/")
	if !ok || rest == "" {
		return Scope{}, "", "", false
	}
	name, _, _ := strings.Cut(rest, "/")
	return Scope{Account: parts[4], Region: parts[3]}, typ, name, true
}

// RootARN is the ARN of an account's root user.
func RootARN(account string) string { return "arn:aws:iam::" + account + ":root" }

var assumedRoleRE = regexp.MustCompile(`^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([\w+=,.@-]+)/([\w+=,.@-]+)$`)

// CanonicalPrincipal maps an STS assumed-role session ARN to its role's
// IAM ARN (arn:aws:iam::<account>:role/<name>, without a path, as EKS's
// authenticator reports it); other ARNs are returned unchanged.
func CanonicalPrincipal(arn string) string {
	if m := assumedRoleRE.FindStringSubmatch(arn); m != nil {
		return "arn:" + m[1] + ":iam::" + m[2] + ":role/" + m[3]
	}
	return arn
}

// SessionName returns the session name of an assumed-role ARN ("" for
// other ARNs).
func SessionName(arn string) string {
	if m := assumedRoleRE.FindStringSubmatch(arn); m != nil {
		return m[4]
	}
	return ""
}

// StripPath returns an IAM role or user ARN without its path
// (arn:aws:iam::1:role/a/b/name -> arn:aws:iam::1:role/name).
func StripPath(arn string) string {
	p, err := ParsePrincipal(arn)
	if err != nil {
		return arn
	}
	return "arn:aws:iam::" + p.Account + ":" + p.Kind + "/" + p.Name()
}
