package agent

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/runner"
)

// ecrTarget is the X-Amz-Target prefix of the ECR API.
const ecrTarget = "AmazonEC2ContainerRegistry_V20150921"

// ecrHostRE matches an ECR registry host name: ACCOUNT.dkr.ecr.REGION.amazonaws.com.
var ecrHostRE = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$`)

// ecrAuth lets tasks pull images from berth's own ECR registry: an image
// named in AWS's ECR form (or by berth's registry host) is pulled from the
// registry host berth hands out (learnt from a GetAuthorizationToken
// signed with the agent's credentials, cached), with a token that
// GetAuthorizationToken gives the task's execution role, as ECS's agent
// pulls: a task whose role cannot be assumed or may not get a token stops
// with ECS's reason, and the registry decides the pull by the role's
// policies. Tokens are cached per task until shortly before they expire.
type ecrAuth struct {
	api   *apiClient
	roles *execRoles

	mu      sync.Mutex
	host    string // registry host from the token's proxyEndpoint
	expires time.Time
	tokens  map[string]ecrToken // task ARN → its execution role's token
}

type ecrToken struct {
	user, pass string
	expires    time.Time
}

type authorizationData struct {
	AuthorizationToken string  `json:"authorizationToken"`
	ExpiresAt          float64 `json:"expiresAt"`
	ProxyEndpoint      string  `json:"proxyEndpoint"`
}

// refresh learns the registry host (the proxyEndpoint of a
// GetAuthorizationToken signed with the agent's credentials) unless it
// is known and its token still fresh.
func (e *ecrAuth) refresh(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.host != "" && time.Until(e.expires) > 10*time.Minute {
		return nil
	}
	var out struct {
		AuthorizationData []authorizationData `json:"authorizationData"`
	}
	if err := e.api.callService(ctx, "ecr", ecrTarget, "GetAuthorizationToken", struct{}{}, &out); err != nil {
		return fmt.Errorf("ecr GetAuthorizationToken: %w", err)
	}
	if len(out.AuthorizationData) == 0 {
		return fmt.Errorf("ecr GetAuthorizationToken returned no authorization data")
	}
	d := out.AuthorizationData[0]
	host := strings.TrimPrefix(strings.TrimPrefix(d.ProxyEndpoint, "https://"), "http://")
	e.host = strings.TrimSuffix(host, "/")
	e.expires = time.UnixMilli(int64(d.ExpiresAt * 1000))
	return nil
}

// token returns the execution role's registry token for a task: its
// GetAuthorizationToken in region, signed with the role's credentials.
func (e *ecrAuth) token(ctx context.Context, taskARN, region string) (ecrToken, error) {
	now := time.Now()
	e.mu.Lock()
	tok, ok := e.tokens[taskARN+" "+region]
	e.mu.Unlock()
	if ok && tok.expires.Sub(now) > 10*time.Minute {
		return tok, nil
	}
	role, err := e.roles.client(ctx, taskARN)
	if err != nil {
		return ecrToken{}, err
	}
	var out struct {
		AuthorizationData []authorizationData `json:"authorizationData"`
	}
	if err := role.callServiceIn(ctx, region, "ecr", ecrTarget, "GetAuthorizationToken", struct{}{}, &out); err != nil {
		// ECS's words, the SDK's retry count included.
		return ecrToken{}, fmt.Errorf("%w: unable to retrieve ecr registry auth: service call has been retried 1 time(s): %w", runner.ErrExecutionRole, err)
	}
	if len(out.AuthorizationData) == 0 {
		return ecrToken{}, fmt.Errorf("%w: unable to retrieve ecr registry auth: no authorization data", runner.ErrExecutionRole)
	}
	d := out.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(d.AuthorizationToken)
	if err != nil {
		return ecrToken{}, fmt.Errorf("ecr authorization token: %w", err)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return ecrToken{}, fmt.Errorf("ecr authorization token is not user:password")
	}
	tok = ecrToken{user: user, pass: pass, expires: time.UnixMilli(int64(d.ExpiresAt * 1000))}
	e.mu.Lock()
	if e.tokens == nil {
		e.tokens = map[string]ecrToken{}
	}
	for k, old := range e.tokens {
		if !old.expires.After(now) {
			delete(e.tokens, k)
		}
	}
	e.tokens[taskARN+" "+region] = tok
	e.mu.Unlock()
	return tok, nil
}

// imageHost returns the registry host part of an image reference.
func imageHost(image string) string {
	host, _, ok := strings.Cut(image, "/")
	if !ok || !strings.ContainsAny(host, ".:") && host != "localhost" {
		return ""
	}
	return host
}

// rewrite maps an ECR-form image to berth's registry host; other images
// are returned unchanged.
func (e *ecrAuth) rewrite(image string) string {
	host := imageHost(image)
	if !ecrHostRE.MatchString(host) {
		return image
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.refresh(ctx); err != nil {
		return image // the pull then fails with the daemon's own message
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if host == e.host {
		return image
	}
	return e.host + strings.TrimPrefix(image, host)
}

// auth returns the credentials a task pulls an image of berth's
// registry with (by its ECR name or by the registry host itself): its
// execution role's token. Other images are pulled anonymously.
func (e *ecrAuth) auth(ctx context.Context, task *ecs.Task, image string) (driver.RegistryAuth, bool, error) {
	host := imageHost(image)
	if host == "" {
		return driver.RegistryAuth{}, false, nil
	}
	m := ecrHostRE.FindStringSubmatch(host)
	if err := e.refresh(ctx); err != nil && m == nil {
		return driver.RegistryAuth{}, false, nil
	}
	e.mu.Lock()
	regHost := e.host
	e.mu.Unlock()
	if host != regHost && m == nil {
		return driver.RegistryAuth{}, false, nil
	}
	region := e.api.region
	if sc, ok := taskScope(task.ARN); ok {
		region = sc.Region
	}
	if m != nil {
		region = m[2]
	}
	tok, err := e.token(ctx, task.ARN, region)
	if err != nil {
		return driver.RegistryAuth{}, false, err
	}
	return driver.RegistryAuth{Username: tok.user, Password: tok.pass, ServerAddress: regHost}, true, nil
}
