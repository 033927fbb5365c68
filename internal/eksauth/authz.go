package eksauth

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/eks"
)

// ResourceRequest is what a request does, as a SubjectAccessReview says.
type ResourceRequest struct {
	Namespace   string `json:"namespace"`
	Verb        string `json:"verb"`
	Group       string `json:"group"`
	Resource    string `json:"resource"`
	Subresource string `json:"subresource"`
	Name        string `json:"name"`
}

// NonResourceRequest is a request for a path (/healthz, /version, ...).
type NonResourceRequest struct {
	Path string `json:"path"`
	Verb string `json:"verb"`
}

var readVerbs = []string{"get", "list", "watch"}

// rbacResources are the RBAC objects only admins may change.
var rbacResources = []string{"roles", "rolebindings", "clusterroles", "clusterrolebindings"}

// Decide says whether the access policies of entry allow the request,
// as EKS's authorizer does: an allow, or no opinion (Kubernetes RBAC then
// decides with the entry's groups). Policies scoped to namespaces apply
// to requests in those namespaces only.
func Decide(entry *eks.AccessEntry, res *ResourceRequest, nonRes *NonResourceRequest) (bool, string) {
	for _, p := range entry.Policies {
		name := strings.TrimPrefix(p.PolicyARN, eks.AccessPolicyARNPrefix)
		if res != nil && p.ScopeType == eks.ScopeNamespace && !inNamespaces(res.Namespace, p.Namespaces) {
			continue
		}
		if nonRes != nil {
			if name == "AmazonEKSClusterAdminPolicy" || (p.ScopeType == eks.ScopeCluster && nonRes.Verb == "get") {
				return true, "allowed by the access policy " + name
			}
			continue
		}
		if res != nil && allows(name, res) {
			return true, "allowed by the access policy " + name
		}
	}
	return false, ""
}

func allows(policy string, r *ResourceRequest) bool {
	read := slices.Contains(readVerbs, r.Verb)
	rbac := r.Group == "rbac.authorization.k8s.io" && slices.Contains(rbacResources, r.Resource)
	secret := r.Group == "" && r.Resource == "secrets"
	switch policy {
	case "AmazonEKSClusterAdminPolicy":
		return true
	case "AmazonEKSAdminViewPolicy":
		return read
	case "AmazonEKSViewPolicy":
		return read && !secret && !rbac
	case "AmazonEKSEditPolicy":
		return !rbac && r.Resource != "resourcequotas" && r.Resource != "namespaces" && r.Verb != "impersonate" &&
			(read || r.Namespace != "")
	case "AmazonEKSAdminPolicy":
		return r.Resource != "resourcequotas" && r.Resource != "namespaces" && r.Verb != "impersonate" &&
			r.Verb != "escalate" && r.Verb != "bind" && (read || r.Namespace != "")
	}
	return false
}

// inNamespaces matches a namespace against a scope's list ("dev*" is a prefix).
func inNamespaces(ns string, scope []string) bool {
	if ns == "" {
		return false
	}
	for _, s := range scope {
		if p, ok := strings.CutSuffix(s, "*"); ok && strings.HasPrefix(ns, p) || s == ns {
			return true
		}
	}
	return false
}

// subjectAccessReview is authorization.k8s.io/v1 SubjectAccessReview, as
// much of it as a webhook reads and writes.
type subjectAccessReview struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		User                  string              `json:"user"`
		Groups                []string            `json:"groups,omitempty"`
		Extra                 map[string][]string `json:"extra,omitempty"`
		ResourceAttributes    *ResourceRequest    `json:"resourceAttributes,omitempty"`
		NonResourceAttributes *NonResourceRequest `json:"nonResourceAttributes,omitempty"`
	} `json:"spec"`
	Status struct {
		Allowed bool   `json:"allowed"`
		Reason  string `json:"reason,omitempty"`
	} `json:"status"`
}

// Authorize decides a request of the user the authenticator made (its
// extra "canonicalArn" names the access entry).
func (a *Authenticator) Authorize(ctx context.Context, sc eks.Scope, cluster string, extra map[string][]string, res *ResourceRequest, nonRes *NonResourceRequest) (bool, string, error) {
	arns := extra["canonicalArn"]
	if len(arns) != 1 {
		return false, "", nil // not an IAM caller: RBAC decides
	}
	c, err := a.Clusters.DescribeCluster(ctx, sc, cluster)
	if err != nil {
		return false, "", err
	}
	want := eks.StripPath(arns[0])
	for _, e := range c.Access {
		if eks.StripPath(e.PrincipalARN) == want {
			ok, why := Decide(e, res, nonRes)
			return ok, why, nil
		}
	}
	return false, "", nil
}

func (a *Authenticator) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	var sar subjectAccessReview
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&sar); err != nil {
		http.Error(w, "the body is not a SubjectAccessReview: "+err.Error(), http.StatusBadRequest)
		return
	}
	sc := eks.Scope{Account: r.PathValue("account"), Region: r.PathValue("region")}
	ok, why, err := a.Authorize(r.Context(), sc, r.PathValue("cluster"), sar.Spec.Extra, sar.Spec.ResourceAttributes, sar.Spec.NonResourceAttributes)
	if err != nil && !IsRefused(err) {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if sar.APIVersion == "" {
		sar.APIVersion, sar.Kind = "authorization.k8s.io/v1", "SubjectAccessReview"
	}
	sar.Status.Allowed, sar.Status.Reason = ok, why
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(sar)
}
