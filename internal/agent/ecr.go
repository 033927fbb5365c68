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
)

// ecrTarget is the X-Amz-Target prefix of the ECR API.
const ecrTarget = "AmazonEC2ContainerRegistry_V20150921"

// ecrHostRE matches an ECR registry host name: ACCOUNT.dkr.ecr.REGION.amazonaws.com.
var ecrHostRE = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$`)

// ecrAuth lets tasks pull images from berth's own ECR registry: an image
// named in AWS's ECR form for berth's account and region is pulled from the
// registry host berth hands out, with a token from GetAuthorizationToken
// signed by the agent's credentials (berth has no IAM yet, so the execution
// role's rights are the agent's). Tokens are cached until shortly before
// they expire.
type ecrAuth struct {
	api *apiClient

	mu      sync.Mutex
	host    string // registry host from the token's proxyEndpoint
	user    string
	pass    string
	expires time.Time
}

type authorizationData struct {
	AuthorizationToken string  `json:"authorizationToken"`
	ExpiresAt          float64 `json:"expiresAt"`
	ProxyEndpoint      string  `json:"proxyEndpoint"`
}

// refresh fetches a token unless a valid one is cached.
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
	raw, err := base64.StdEncoding.DecodeString(d.AuthorizationToken)
	if err != nil {
		return fmt.Errorf("ecr authorization token: %w", err)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return fmt.Errorf("ecr authorization token is not user:password")
	}
	host := strings.TrimPrefix(strings.TrimPrefix(d.ProxyEndpoint, "https://"), "http://")
	e.host, e.user, e.pass = strings.TrimSuffix(host, "/"), user, pass
	e.expires = time.UnixMilli(int64(d.ExpiresAt * 1000))
	return nil
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

// auth returns credentials for an image in berth's registry (by its ECR
// name or by the registry host itself).
func (e *ecrAuth) auth(image string) (driver.RegistryAuth, bool) {
	host := imageHost(image)
	if host == "" {
		return driver.RegistryAuth{}, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.refresh(ctx); err != nil {
		return driver.RegistryAuth{}, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if host != e.host && !ecrHostRE.MatchString(host) {
		return driver.RegistryAuth{}, false
	}
	return driver.RegistryAuth{Username: e.user, Password: e.pass, ServerAddress: e.host}, true
}
