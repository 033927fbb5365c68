package server

import (
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
)

func TestParseECRImage(t *testing.T) {
	sc := ecs.Scope{Account: "000000000000", Region: "us-east-1"}
	for _, c := range []struct {
		image                      string
		account, region, repo, ref string
		ok                         bool
	}{
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com/web-app:v2", "123456789012", "eu-west-1", "web-app", "v2", true},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/web", "123456789012", "eu-west-1", "team/web", "latest", true},
		{"localhost:4566/web@sha256:abcd", "000000000000", "us-east-1", "web", "sha256:abcd", true},
		{"localhost:4566/web:v1@sha256:abcd", "000000000000", "us-east-1", "web", "sha256:abcd", true},
		{"docker.io/library/nginx:1.27", "", "", "", "", false},
		{"nginx", "", "", "", "", false},
	} {
		a, r, repo, ref, ok := parseECRImage(c.image, "localhost:4566", sc)
		if ok != c.ok || ok && (a != c.account || r != c.region || repo != c.repo || ref != c.ref) {
			t.Errorf("%s: %q %q %q %q %v", c.image, a, r, repo, ref, ok)
		}
	}
}
