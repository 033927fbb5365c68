package eksauth

import (
	"testing"

	"github.com/berth-dev/berth/internal/eks"
)

func entryWith(policy, scope string, ns ...string) *eks.AccessEntry {
	return &eks.AccessEntry{Policies: []*eks.AssociatedPolicy{{PolicyARN: eks.AccessPolicyARNPrefix + policy, ScopeType: scope, Namespaces: ns}}}
}

func TestDecide(t *testing.T) {
	pods := func(verb, ns string) *ResourceRequest {
		return &ResourceRequest{Verb: verb, Resource: "pods", Namespace: ns}
	}
	secrets := &ResourceRequest{Verb: "get", Resource: "secrets", Namespace: "web"}
	roles := &ResourceRequest{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "roles", Namespace: "web"}
	for _, tc := range []struct {
		name  string
		entry *eks.AccessEntry
		res   *ResourceRequest
		non   *NonResourceRequest
		want  bool
	}{
		{"cluster admin deletes nodes", entryWith("AmazonEKSClusterAdminPolicy", eks.ScopeCluster), &ResourceRequest{Verb: "delete", Resource: "nodes"}, nil, true},
		{"cluster admin posts anywhere", entryWith("AmazonEKSClusterAdminPolicy", eks.ScopeCluster), nil, &NonResourceRequest{Path: "/x", Verb: "post"}, true},
		{"view lists pods in all namespaces", entryWith("AmazonEKSViewPolicy", eks.ScopeCluster), pods("list", ""), nil, true},
		{"view may not create", entryWith("AmazonEKSViewPolicy", eks.ScopeCluster), pods("create", "web"), nil, false},
		{"view may not read secrets", entryWith("AmazonEKSViewPolicy", eks.ScopeCluster), secrets, nil, false},
		{"admin view reads secrets", entryWith("AmazonEKSAdminViewPolicy", eks.ScopeCluster), secrets, nil, true},
		{"edit creates pods in its namespace", entryWith("AmazonEKSEditPolicy", eks.ScopeNamespace, "web"), pods("create", "web"), nil, true},
		{"edit outside its namespace", entryWith("AmazonEKSEditPolicy", eks.ScopeNamespace, "web"), pods("create", "db"), nil, false},
		{"namespace prefix", entryWith("AmazonEKSEditPolicy", eks.ScopeNamespace, "dev-*"), pods("create", "dev-a"), nil, true},
		{"namespaced policy, all namespaces", entryWith("AmazonEKSViewPolicy", eks.ScopeNamespace, "web"), pods("list", ""), nil, false},
		{"edit may not change roles", entryWith("AmazonEKSEditPolicy", eks.ScopeCluster), roles, nil, false},
		{"admin changes roles", entryWith("AmazonEKSAdminPolicy", eks.ScopeCluster), roles, nil, true},
		{"no policy", &eks.AccessEntry{}, pods("get", "web"), nil, false},
	} {
		if got, _ := Decide(tc.entry, tc.res, tc.non); got != tc.want {
			t.Errorf("%s: allowed %v, want %v", tc.name, got, tc.want)
		}
	}
}
