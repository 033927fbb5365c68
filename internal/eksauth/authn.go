package eksauth

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/eks"
)

// Clusters finds a cluster (ekscp.Plane does).
type Clusters interface {
	DescribeCluster(ctx context.Context, sc eks.Scope, name string) (*eks.Cluster, error)
}

// User is a Kubernetes user an IAM caller maps to.
type User struct {
	Username string              `json:"username"`
	UID      string              `json:"uid"`
	Groups   []string            `json:"groups"`
	Extra    map[string][]string `json:"extra,omitempty"`
}

// Authenticator maps EKS tokens to Kubernetes users.
type Authenticator struct {
	// Verifier must be strict: an unknown access key is refused.
	Verifier awsproto.Authenticator
	Clusters Clusters
	Logger   *slog.Logger
	// BerthHosts are berth's own host:port addresses: tokens presigned
	// for berth's STS endpoint name them.
	BerthHosts []string
}

// Authenticate verifies token for a cluster and maps its caller through
// the cluster's access entries.
func (a *Authenticator) Authenticate(ctx context.Context, sc eks.Scope, cluster, token string) (User, error) {
	caller, err := Verify(ctx, a.Verifier, token, cluster, a.BerthHosts...)
	if err != nil {
		return User{}, err
	}
	c, err := a.Clusters.DescribeCluster(ctx, sc, cluster)
	if err != nil {
		return User{}, refused("cluster %s: %v", cluster, err)
	}
	if c.Status == eks.StatusDeleting {
		return User{}, refused("cluster %s is being deleted", cluster)
	}
	return Map(c, caller)
}

// Map maps a verified caller to a user through c's access entries.
func Map(c *eks.Cluster, caller Caller) (User, error) {
	want := eks.StripPath(caller.Canonical)
	var entry *eks.AccessEntry
	if c.AuthMode != eks.AuthConfigMap {
		for _, e := range c.Access {
			if eks.StripPath(e.PrincipalARN) == want {
				entry = e
				break
			}
		}
	}
	if entry == nil {
		// The creator of a cluster made with the CONFIG_MAP mode is an
		// admin that neither an access entry nor aws-auth shows; it stays
		// one when the mode moves to API_AND_CONFIG_MAP (with access
		// entries from the start, the creator gets an entry instead).
		if c.AuthMode != eks.AuthAPI && c.BootstrapAdmin && c.Creator != "" && eks.StripPath(c.Creator) == want {
			return User{
				Username: "kubernetes-admin", UID: "aws-iam-authenticator:" + caller.Account + ":" + caller.PrincipalID,
				Groups: []string{"system:masters"}, Extra: callerExtra(caller),
			}, nil
		}
		if c.AuthMode == eks.AuthConfigMap {
			return User{}, refused("%s is not mapped by the aws-auth ConfigMap of cluster %s (berth reads no aws-auth mappings yet; the cluster creator is admin)", caller.ARN, c.Name)
		}
		return User{}, refused("%s has no access entry in cluster %s", caller.ARN, c.Name)
	}
	u := User{
		Username: expand(entry.Username, caller),
		UID:      "aws-iam-authenticator:" + caller.Account + ":" + caller.PrincipalID,
		Groups:   append([]string{}, entry.KubernetesGroups...),
		Extra:    callerExtra(caller),
	}
	switch entry.Type {
	case "EC2_LINUX", "EC2_WINDOWS", "EC2", "HYBRID_LINUX", "HYPERPOD_LINUX":
		u.Groups = append(u.Groups, "system:bootstrappers", "system:nodes")
	case "FARGATE_LINUX":
		u.Groups = append(u.Groups, "system:bootstrappers", "system:nodes", "system:node-proxier")
	}
	return u, nil
}

// callerExtra is the user's extra information (the authorizer webhook
// reads canonicalArn).
func callerExtra(caller Caller) map[string][]string {
	x := map[string][]string{
		"arn": {caller.ARN}, "canonicalArn": {caller.Canonical}, "accountId": {caller.Account},
		"accessKeyId": {caller.AccessKey}, "principalId": {caller.PrincipalID},
	}
	if caller.SessionName != "" {
		x["sessionName"] = []string{caller.SessionName}
	}
	return x
}

// expand fills the username templates EKS documents.
func expand(s string, c Caller) string {
	return strings.NewReplacer("{{SessionName}}", c.SessionName, "{{AccountID}}", c.Account,
		"{{SessionNameRaw}}", c.SessionName, "{{AccessKeyID}}", c.AccessKey).Replace(s)
}

// tokenReview is authentication.k8s.io/v1 TokenReview, as much of it as
// a webhook reads and writes.
type tokenReview struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Token string `json:"token"`
	} `json:"spec"`
	Status struct {
		Authenticated bool   `json:"authenticated"`
		User          *User  `json:"user,omitempty"`
		Error         string `json:"error,omitempty"`
	} `json:"status"`
}

// Handler serves TokenReview webhooks at
// POST {prefix}{account}/{region}/{cluster}/authenticate and
// SubjectAccessReview webhooks (access policies) at .../authorize.
func (a *Authenticator) Handler(prefix string) http.Handler {
	log := a.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+prefix+"{account}/{region}/{cluster}/authenticate", func(w http.ResponseWriter, r *http.Request) {
		var tr tokenReview
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&tr); err != nil {
			http.Error(w, "the body is not a TokenReview: "+err.Error(), http.StatusBadRequest)
			return
		}
		sc := eks.Scope{Account: r.PathValue("account"), Region: r.PathValue("region")}
		u, err := a.Authenticate(r.Context(), sc, r.PathValue("cluster"), tr.Spec.Token)
		tr.Spec.Token = ""
		if tr.APIVersion == "" {
			tr.APIVersion, tr.Kind = "authentication.k8s.io/v1", "TokenReview"
		}
		switch {
		case err == nil:
			tr.Status.Authenticated, tr.Status.User = true, &u
		case IsRefused(err):
			tr.Status.Error = err.Error()
			log.Info("eks token refused", "cluster", r.PathValue("cluster"), "reason", err)
		default:
			log.Warn("eks token review failed", "cluster", r.PathValue("cluster"), "err", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(tr)
	})
	mux.HandleFunc("POST "+prefix+"{account}/{region}/{cluster}/authorize", a.serveAuthorize)
	return mux
}
