package server

import (
	"context"
	"strings"

	"github.com/berth-dev/berth/internal/ecrapi"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
)

// ecrImages is the ECS plane's ImageResolver over berth's ECR: an image
// of an ECR registry host (<account>.dkr.ecr.<region>.amazonaws.com) or
// of berth's own registry address (the account and region of the
// caller) resolves to the digest its tag points at. The server sets api
// and host once the ECR subsystem is built, before it serves.
type ecrImages struct {
	api  *ecrapi.API
	host string
}

var _ ecscp.ImageResolver = (*ecrImages)(nil)

func (e *ecrImages) ImageDigest(ctx context.Context, sc ecs.Scope, image string) (string, bool, error) {
	if e.api == nil {
		return "", false, nil
	}
	account, region, repo, ref, ok := parseECRImage(image, e.host, sc)
	if !ok {
		return "", false, nil
	}
	return e.api.ImageDigest(ctx, account, region, repo, ref)
}

// parseECRImage splits an image reference of berth's registry into its
// account, region, repository and reference (a digest, else the tag,
// "latest" by default); ok is false for an image of another registry.
func parseECRImage(image, ownHost string, sc ecs.Scope) (account, region, repo, ref string, ok bool) {
	host, rest, found := strings.Cut(image, "/")
	if !found || rest == "" {
		return "", "", "", "", false
	}
	switch {
	case host == ownHost:
		account, region = sc.Account, sc.Region
	case strings.HasSuffix(host, ".amazonaws.com") && strings.Contains(host, ".dkr.ecr."):
		a, r, _ := strings.Cut(strings.TrimSuffix(host, ".amazonaws.com"), ".dkr.ecr.")
		if a == "" || r == "" {
			return "", "", "", "", false
		}
		account, region = a, r
	default:
		return "", "", "", "", false
	}
	repo, ref = rest, "latest"
	if name, digest, isDigest := strings.Cut(rest, "@"); isDigest {
		repo, ref = name, digest
		if i := strings.LastIndexByte(repo, ':'); i >= 0 {
			repo = repo[:i] // name:tag@digest: the digest wins
		}
	} else if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		repo, ref = rest[:i], rest[i+1:]
	}
	return account, region, repo, ref, repo != ""
}
