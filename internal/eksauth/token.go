package eksauth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/eks"
)

// TokenPrefix starts every EKS bearer token.
const TokenPrefix = "k8s-aws-v1."

// ClusterIDHeader is the header the presigned URL signs with the cluster name.
const ClusterIDHeader = "x-k8s-aws-id"

var stsHostRE = regexp.MustCompile(`^sts(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$`)

// Caller is the verified signer of a token.
type Caller struct {
	ARN         string // as STS reports it (an assumed-role session ARN for roles)
	Canonical   string // the IAM ARN access entries name (role ARN for a session)
	Account     string
	PrincipalID string
	AccessKey   string
	SessionName string
}

// errToken is why a token was refused (a 401 for the client).
type errToken struct{ msg string }

func (e *errToken) Error() string { return e.msg }

func refused(format string, args ...any) error { return &errToken{fmt.Sprintf(format, args...)} }

// IsRefused says whether err refuses a token (as opposed to a failure).
func IsRefused(err error) bool {
	var e *errToken
	return errors.As(err, &e)
}

// Verify checks that token is an `aws eks get-token` token for cluster,
// signed by a key berth knows, and returns its signer. The presigned URL
// names AWS's STS (https://sts[.region].amazonaws.com/) or, when the CLI
// was pointed at berth (AWS_ENDPOINT_URL), one of berthHosts (host:port,
// http or https).
func Verify(ctx context.Context, v awsproto.Authenticator, token, cluster string, berthHosts ...string) (Caller, error) {
	raw, ok := strings.CutPrefix(token, TokenPrefix)
	if !ok {
		return Caller{}, refused("the token is not an EKS token (it does not start with %s)", TokenPrefix)
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(raw, "="))
	if err != nil {
		return Caller{}, refused("the token is not base64url")
	}
	u, err := url.Parse(string(b))
	if err != nil || !stsURL(u, berthHosts) {
		return Caller{}, refused("the token is not a presigned STS URL")
	}
	q := u.Query()
	if q.Get("Action") != "GetCallerIdentity" || q.Get("Version") != "2011-06-15" {
		return Caller{}, refused("the token does not presign sts:GetCallerIdentity")
	}
	if !slices.Contains(strings.Split(strings.ToLower(q.Get("X-Amz-SignedHeaders")), ";"), ClusterIDHeader) {
		return Caller{}, refused("the token does not sign the %s header (cluster name)", ClusterIDHeader)
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Caller{}, refused("the token's URL is not valid")
	}
	r.Host = u.Host
	r.Header.Set(ClusterIDHeader, cluster)
	id, err := v.Authenticate(r, nil)
	if err != nil {
		return Caller{}, refused("the token's signature is not valid for cluster %s: %v", cluster, err)
	}
	if id.Service != "sts" {
		return Caller{}, refused("the token is signed for %s, not sts", id.Service)
	}
	c := Caller{ARN: id.Principal, Account: id.Account, PrincipalID: id.PrincipalID, AccessKey: id.AccessKey}
	if c.ARN == "" {
		c.ARN = eks.RootARN(id.Account)
		c.PrincipalID = id.Account
	}
	c.Canonical = eks.CanonicalPrincipal(c.ARN)
	c.SessionName = eks.SessionName(c.ARN)
	return c, nil
}

func stsURL(u *url.URL, berthHosts []string) bool {
	if u.Path != "/" && u.Path != "" {
		return false
	}
	if u.Scheme == "https" && stsHostRE.MatchString(u.Hostname()) {
		return true
	}
	return (u.Scheme == "http" || u.Scheme == "https") && slices.Contains(berthHosts, u.Host)
}
