package eksauth

import (
	"context"
	"encoding/json"
	"fmt"
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
	// ConfigMaps reads clusters' aws-auth ConfigMaps (authenticationMode
	// CONFIG_MAP and API_AND_CONFIG_MAP); nil maps nobody through them.
	ConfigMaps ConfigMaps
	Logger     *slog.Logger
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
	var aa *AWSAuth
	if readsConfigMap(c) && accessEntry(c, caller) == nil && a.ConfigMaps != nil {
		data, err := a.ConfigMaps.AWSAuth(ctx, sc, c)
		if err != nil {
			return User{}, fmt.Errorf("reading the aws-auth ConfigMap of cluster %s: %w", cluster, err)
		}
		if aa, err = ParseAWSAuth(data); err != nil {
			return User{}, refused("%s: %v", cluster, err)
		}
	}
	return Map(c, caller, aa)
}

// accessEntry is caller's access entry in c (nil without one, or when c
// does not use access entries).
func accessEntry(c *eks.Cluster, caller Caller) *eks.AccessEntry {
	if c.AuthMode == eks.AuthConfigMap {
		return nil
	}
	want := eks.StripPath(caller.Canonical)
	for _, e := range c.Access {
		if eks.StripPath(e.PrincipalARN) == want {
			return e
		}
	}
	return nil
}

// Map maps a verified caller to a user through c's access entries and,
// for the CONFIG_MAP modes, the aws-auth ConfigMap's mapping aa (nil when
// there is none). An access entry takes precedence over aws-auth, as on
// EKS.
func Map(c *eks.Cluster, caller Caller, aa *AWSAuth) (User, error) {
	entry := accessEntry(c, caller)
	if entry == nil {
		// The creator of a cluster made with the CONFIG_MAP mode is an
		// admin that neither an access entry nor aws-auth shows; it stays
		// one when the mode moves to API_AND_CONFIG_MAP (with access
		// entries from the start, the creator gets an entry instead).
		if c.AuthMode != eks.AuthAPI && c.BootstrapAdmin && c.Creator != "" && eks.StripPath(c.Creator) == eks.StripPath(caller.Canonical) {
			return User{
				Username: "kubernetes-admin", UID: "aws-iam-authenticator:" + caller.Account + ":" + caller.PrincipalID,
				Groups: []string{"system:masters"}, Extra: callerExtra(caller),
			}, nil
		}
		if readsConfigMap(c) {
			if u, ok := aa.lookup(caller); ok {
				return u, nil
			}
		}
		switch c.AuthMode {
		case eks.AuthConfigMap:
			return User{}, refused("%s is not mapped by the aws-auth ConfigMap of cluster %s", caller.ARN, c.Name)
		case eks.AuthAPIAndConfigMap:
			return User{}, refused("%s has no access entry in cluster %s and is not mapped by its aws-auth ConfigMap", caller.ARN, c.Name)
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

// expand fills the username templates EKS documents ({{SessionName}}
// has an email's @ replaced by -, {{SessionNameRaw}} does not).
func expand(s string, c Caller) string {
	return strings.NewReplacer("{{SessionName}}", strings.ReplaceAll(c.SessionName, "@", "-"), "{{AccountID}}", c.Account,
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
