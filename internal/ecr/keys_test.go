package ecr

import (
	"testing"
	"time"
)

func TestKeys(t *testing.T) {
	k := Keys{Account: "000000000000", Region: "us-east-1"}
	cases := map[string]string{
		k.Repo("team/web-app"):                        "/ecr/000000000000/us-east-1/repos/team%2Fweb-app",
		k.Image("team/web-app", "sha256:ab"):          "/ecr/000000000000/us-east-1/images/team%2Fweb-app/sha256:ab",
		k.Tag("web", "v1.0"):                          "/ecr/000000000000/us-east-1/tags/web/v1.0",
		k.Layer("a/b/c", "sha512:cd"):                 "/ecr/000000000000/us-east-1/layers/a%2Fb%2Fc/sha512:cd",
		k.Referrer("web", "sha256:s", "sha256:r"):     "/ecr/000000000000/us-east-1/referrers/web/sha256:s/sha256:r",
		k.Blob("sha256:ef"):                           "/ecr/000000000000/us-east-1/blobs/sha256:ef",
		k.ImagesPrefix("team/web-app"):                "/ecr/000000000000/us-east-1/images/team%2Fweb-app/",
		k.SubjectReferrersPrefix("web", "sha256:abc"): "/ecr/000000000000/us-east-1/referrers/web/sha256:abc/",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	repo, rest, ok := SplitRepoKey(k.ImagesRoot(), k.Image("team/web-app", "sha256:ab"))
	if !ok || repo != "team/web-app" || rest != "sha256:ab" {
		t.Errorf("SplitRepoKey = %q %q %v", repo, rest, ok)
	}
	if _, _, ok := SplitRepoKey(k.TagsRoot(), k.Image("x", "y")); ok {
		t.Error("SplitRepoKey accepted a key outside the prefix")
	}
}

func TestRepositoryRoundTrip(t *testing.T) {
	r := NewRepository("123456789012", "eu-west-1", "team/web", time.Unix(1700000000, 0))
	if r.ARN != "arn:aws:ecr:eu-west-1:123456789012:repository/team/web" {
		t.Errorf("ARN %q", r.ARN)
	}
	if r.URI != "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/web" {
		t.Errorf("URI %q", r.URI)
	}
	b, err := EncodeRepository(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeRepository(b)
	if err != nil {
		t.Fatal(err)
	}
	if *got != *r || got.Immutable() {
		t.Errorf("round trip: %+v", got)
	}
	if _, err := DecodeRepository([]byte("{")); err == nil {
		t.Error("decode of garbage succeeded")
	}
}
