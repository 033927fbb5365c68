package eks

import "slices"

// AccessPolicyARNPrefix is the ARN prefix of EKS's access policies.
const AccessPolicyARNPrefix = "arn:aws:eks::aws:cluster-access-policy/"

// ClusterAdminPolicy is the policy the cluster creator gets when
// bootstrapClusterCreatorAdminPermissions is true.
const ClusterAdminPolicy = AccessPolicyARNPrefix + "AmazonEKSClusterAdminPolicy"

// AccessPolicies names EKS's access policies (ListAccessPolicies).
var AccessPolicies = []string{
	"AmazonAIOpsAssistantPolicy",
	"AmazonEKSAdminPolicy",
	"AmazonEKSAdminViewPolicy",
	"AmazonEKSAutoNodePolicy",
	"AmazonEKSBlockStorageClusterPolicy",
	"AmazonEKSBlockStoragePolicy",
	"AmazonEKSClusterAdminPolicy",
	"AmazonEKSComputeClusterPolicy",
	"AmazonEKSComputePolicy",
	"AmazonEKSEditPolicy",
	"AmazonEKSHybridPolicy",
	"AmazonEKSLoadBalancingClusterPolicy",
	"AmazonEKSLoadBalancingPolicy",
	"AmazonEKSNetworkingClusterPolicy",
	"AmazonEKSNetworkingPolicy",
	"AmazonEKSSecretReaderPolicy",
	"AmazonEKSViewPolicy",
}

// IsAccessPolicy says whether arn names one of EKS's access policies.
func IsAccessPolicy(arn string) bool {
	name, ok := cutPrefix(arn, AccessPolicyARNPrefix)
	return ok && slices.Contains(AccessPolicies, name)
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) < len(p) || s[:len(p)] != p {
		return "", false
	}
	return s[len(p):], true
}
