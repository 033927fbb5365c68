package ecrapi

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/registry"
)

// Authorization tokens
//
// GetAuthorizationToken returns base64("AWS:" + token), as ECR does; docker
// login sends it back as Basic credentials with user "AWS". The token is
// self-contained: a versioned, base64url JSON claim set (account, region,
// access key, expiry) and an HMAC-SHA256 over it with the server's key, so
// any berth process with the same key can verify it without state.
// Download URLs from GetDownloadUrlForLayer carry a token of the same kind
// scoped to one repository and blob; the two kinds are signed under
// different labels so that one can never stand in for the other.

const (
	tokenVersion      = "b1"
	labelAuth         = "ecr-auth"
	labelDownload     = "ecr-layer"
	downloadTokenParm = "X-Berth-Layer-Token"
)

type tokenSigner struct{ key []byte }

// claims is a token's content.
type claims struct {
	Account   string `json:"a"`
	Region    string `json:"r"`
	AccessKey string `json:"k,omitempty"`
	Expires   int64  `json:"e"`
	// download tokens only
	Repository string `json:"n,omitempty"`
	Digest     string `json:"d,omitempty"`
}

func (s *tokenSigner) mac(label string, payload []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)
}

func (s *tokenSigner) sign(label string, c claims) string {
	payload, _ := json.Marshal(c)
	enc := base64.RawURLEncoding
	return tokenVersion + "." + enc.EncodeToString(payload) + "." + enc.EncodeToString(s.mac(label, payload))
}

// Token verification failures.
var (
	errTokenInvalid = errors.New("Your authorization token is invalid. Reauthenticate and try again.")
	errTokenExpired = errors.New("Your authorization token has expired. Reauthenticate and try again.")
)

func (s *tokenSigner) verify(label, tok string, now time.Time) (claims, error) {
	var c claims
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] != tokenVersion {
		return c, errTokenInvalid
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(parts[1])
	sig, err2 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || !hmac.Equal(sig, s.mac(label, payload)) {
		return c, errTokenInvalid
	}
	if err := json.Unmarshal(payload, &c); err != nil || !validAccount(c.Account) || !validRegion(c.Region) {
		return claims{}, errTokenInvalid
	}
	if now.Unix() >= c.Expires {
		return claims{}, errTokenExpired
	}
	return c, nil
}

type getAuthorizationTokenIn struct {
	RegistryIDs []string `json:"registryIds"`
}

type authorizationData struct {
	AuthorizationToken string              `json:"authorizationToken"`
	ExpiresAt          *awsproto.EpochTime `json:"expiresAt"`
	ProxyEndpoint      string              `json:"proxyEndpoint"`
}

type getAuthorizationTokenOut struct {
	AuthorizationData []authorizationData `json:"authorizationData"`
}

// NewAuthorizationToken returns a docker password (the token, without the
// "AWS:" user and the base64 wrapping) signed with key, for an account and
// region, that expires at expires. It is what GetAuthorizationToken hands
// out; tests use it to mint expired tokens.
func NewAuthorizationToken(key []byte, account, region, accessKey string, expires time.Time) string {
	return (&tokenSigner{key: key}).sign(labelAuth, claims{Account: account, Region: region, AccessKey: accessKey, Expires: expires.Unix()})
}

// AuthorizationToken is NewAuthorizationToken with the API's key.
func (a *API) AuthorizationToken(account, region, accessKey string, expires time.Time) string {
	return NewAuthorizationToken(a.cfg.TokenKey, account, region, accessKey, expires)
}

func (a *API) getAuthorizationToken(_ context.Context, c *awsproto.Call, in *getAuthorizationTokenIn) (any, error) {
	for _, id := range in.RegistryIDs {
		if err := validateRegistryID(id); err != nil {
			return nil, err
		}
	}
	sc := a.callScope(c)
	exp := a.now().Add(a.cfg.TokenTTL).Truncate(time.Second)
	tok := a.AuthorizationToken(sc.Account, sc.Region, c.AccessKey, exp)
	data := authorizationData{
		AuthorizationToken: base64.StdEncoding.EncodeToString([]byte("AWS:" + tok)),
		ExpiresAt:          awsproto.Epoch(exp),
		ProxyEndpoint:      "http://" + a.cfg.RegistryHost,
	}
	out := getAuthorizationTokenOut{AuthorizationData: []authorizationData{data}}
	// One entry per requested registry, as ECR answers; the token is the
	// caller's in every case (registry access is decided per repository).
	for i := 1; i < len(in.RegistryIDs); i++ {
		out.AuthorizationData = append(out.AuthorizationData, data)
	}
	return out, nil
}

// downloadURL returns a presigned URL on berth's registry that serves one
// blob of a repository until it expires.
func (a *API) downloadURL(sc scope, repo, dgst string) string {
	tok := a.auth.sign(labelDownload, claims{
		Account: sc.Account, Region: sc.Region, Repository: repo, Digest: dgst,
		Expires: a.now().Add(DefaultDownloadURLTTL).Unix(),
	})
	return "http://" + a.cfg.RegistryHost + "/v2/" + repo + "/blobs/" + dgst + "?" + downloadTokenParm + "=" + tok
}

// principal is who a registry request authenticated as.
type principal struct {
	claims
	download bool // a download URL token, valid for one blob only
}

// regAuth is what the registry dispatcher learned about a request before
// handing it to a registry; the Authorizer reads it from the context.
type regAuth struct {
	p   *principal // nil: no credentials
	err error      // invalid or expired credentials
}

type regAuthKey struct{}

// authenticate reads the Basic credentials (or a download token) of a
// registry request.
func (a *API) authenticate(r *http.Request) regAuth {
	now := a.now()
	if tok := r.URL.Query().Get(downloadTokenParm); tok != "" {
		c, err := a.auth.verify(labelDownload, tok, now)
		if err != nil {
			return regAuth{err: err}
		}
		return regAuth{p: &principal{claims: c, download: true}}
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		if r.Header.Get("Authorization") != "" {
			return regAuth{err: errors.New("Not Authorized: unsupported authorization scheme; use docker login with the output of aws ecr get-login-password")}
		}
		return regAuth{}
	}
	if user != "AWS" {
		return regAuth{err: errors.New("Not Authorized: the user name must be AWS")}
	}
	c, err := a.auth.verify(labelAuth, pass, now)
	if err != nil {
		return regAuth{err: err}
	}
	return regAuth{p: &principal{claims: c}}
}

// hostScopeRE recognises an ECR-style registry host name
// (<account>.dkr.ecr.<region>.<anything>), which addresses another
// account's registry through the same berth endpoint.
var hostScopeRE = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.`)

// RegistryHandler serves the OCI distribution API (/v2/) for every account
// and region. The registry of a request is the one its host name names
// (<account>.dkr.ecr.<region>.…), else the one of its credentials, else
// the default account's.
func (a *API) RegistryHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := a.authenticate(r)
		sc := scope{a.cfg.DefaultAccount, a.cfg.DefaultRegion}
		switch m := hostScopeRE.FindStringSubmatch(r.Host); {
		case m != nil:
			sc = scope{m[1], m[2]}
		case st.p != nil:
			sc = scope{st.p.Account, st.p.Region}
		}
		reg, err := a.registry(sc)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if a.refuseExcludedTagMove(w, r, st, sc, reg) {
			return
		}
		reg.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), regAuthKey{}, st)))
	})
}

// maxManifestBody bounds the manifest a tag-mutability check reads (the
// registry's default manifest limit).
const maxManifestBody = 4<<20 + 64<<10

// refuseExcludedTagMove enforces the *_WITH_EXCLUSION tag mutability
// settings for manifest pushes, which the registry (knowing only plain
// IMMUTABLE) cannot: moving an immutable tag to another manifest fails
// with TAG_INVALID, which docker shows as "tag invalid: ...". It reports
// whether it answered the request. The body it reads is handed on.
func (a *API) refuseExcludedTagMove(w http.ResponseWriter, r *http.Request, st regAuth, sc scope, reg *registry.Registry) bool {
	if r.Method != http.MethodPut || st.p == nil || st.p.download {
		return false
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v2/")
	i := strings.LastIndex(rest, "/manifests/")
	if !ok || i < 0 {
		return false
	}
	name, tag := rest[:i], rest[i+len("/manifests/"):]
	if strings.Contains(tag, ":") || !registry.ValidTag(tag) {
		return false
	}
	rec, _, err := a.getRepo(r.Context(), sc, name)
	if err != nil || rec.Immutable() || !tagImmutable(rec, tag) {
		return false
	}
	if st.p.Account != sc.Account && !policyAllows(rec.Policy, st.p.Account, "ecr:PutImage") {
		return false // the registry denies it
	}
	cur, err := reg.DescribeImage(r.Context(), name, tag)
	if err != nil {
		return false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxManifestBody+1))
	if err != nil {
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if manifestDigest("", body) == cur.Digest {
		return false
	}
	msg := errTagImmutable(tag, name).Error()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"code": registry.CodeTagInvalid, "message": msg, "detail": map[string]string{"tag": tag},
	}}})
	return true
}

// authorizer is the registry.Authorizer of one account and region's
// registry: a valid token is required; its account may do anything in its
// own registry and, in another account's, what the repository policy
// grants it.
func (a *API) authorizer(sc scope) registry.Authorizer {
	return registry.AuthorizerFunc(func(r *http.Request, repo, action string) error {
		st, _ := r.Context().Value(regAuthKey{}).(regAuth)
		if st.err != nil {
			return registry.Unauthorized(st.err.Error())
		}
		if st.p == nil {
			return registry.Unauthorized("Not Authorized: no basic auth credentials; log in with: aws ecr get-login-password | docker login --username AWS --password-stdin " + a.cfg.RegistryHost)
		}
		p := st.p
		if p.download {
			// a download URL serves exactly its blob
			want := "/v2/" + p.Repository + "/blobs/" + p.Digest
			if (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.URL.Path != want ||
				repo != p.Repository || p.Account != sc.Account || p.Region != sc.Region {
				return registry.Denied("this download URL is only valid for " + want)
			}
			return nil
		}
		if a.cfg.IdentityPolicies != nil && p.AccessKey != "" && repo != "" {
			act := iamAction(r, action)
			res := "arn:aws:ecr:" + sc.Region + ":" + sc.Account + ":repository/" + repo
			if err := a.cfg.IdentityPolicies(r.Context(), p.AccessKey, act, res); err != nil {
				return registry.Denied(err.Error())
			}
		}
		if p.Account == sc.Account || repo == "" {
			return nil
		}
		rec, _, err := a.getRepo(r.Context(), sc, repo)
		if err != nil {
			// Say nothing about another account's repositories.
			return registry.Denied(deniedMessage(p.Account, iamAction(r, action), sc, repo))
		}
		act := iamAction(r, action)
		if !policyAllows(rec.Policy, p.Account, act) {
			return registry.Denied(deniedMessage(p.Account, act, sc, repo))
		}
		return nil
	})
}

func deniedMessage(account, action string, sc scope, repo string) string {
	return "User: arn:aws:iam::" + account + ":root is not authorized to perform: " + action +
		" on resource: arn:aws:ecr:" + sc.Region + ":" + sc.Account + ":repository/" + repo +
		" because no resource-based policy allows the " + action + " action"
}

// iamAction is the ECR API action a registry request corresponds to (the
// action a repository policy must allow).
func iamAction(r *http.Request, action string) string {
	p := r.URL.Path
	switch action {
	case registry.ActionPush:
		switch {
		case strings.Contains(p, "/manifests/"):
			return "ecr:PutImage"
		case r.Method == http.MethodPost:
			return "ecr:InitiateLayerUpload"
		case r.Method == http.MethodPut:
			return "ecr:CompleteLayerUpload"
		}
		return "ecr:UploadLayerPart"
	case registry.ActionDelete:
		return "ecr:BatchDeleteImage"
	}
	switch {
	case strings.Contains(p, "/blobs/") && r.Method == http.MethodHead:
		return "ecr:BatchCheckLayerAvailability"
	case strings.Contains(p, "/blobs/"):
		return "ecr:GetDownloadUrlForLayer"
	case strings.HasSuffix(p, "/tags/list"):
		return "ecr:ListImages"
	}
	return "ecr:BatchGetImage"
}
