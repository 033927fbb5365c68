package ecrapi_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"

	"github.com/berth-dev/berth/internal/berthtest"
	"github.com/berth-dev/berth/internal/server"
)

const (
	ownerAccount = "123456789012"
	otherAccount = "210987654321"
	otherKey     = "AKIAOTHERACCOUNT0001"
	otherSecret  = "other-secret"
	testRegion   = "eu-west-1"
)

// env is a berth server with an ECR client of the default account and one
// of a second account (from a credentials file).
type env struct {
	srv   *berthtest.Server
	owner *ecr.Client
	other *ecr.Client
}

func newEnv(t *testing.T, mutate ...func(*server.Config)) *env {
	t.Helper()
	credFile := filepath.Join(t.TempDir(), "credentials")
	creds := "[other]\naws_access_key_id = " + otherKey + "\naws_secret_access_key = " + otherSecret + "\naccount_id = " + otherAccount + "\n"
	if err := os.WriteFile(credFile, []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	muts := append([]func(*server.Config){func(c *server.Config) { c.CredentialsFile = credFile }}, mutate...)
	srv := berthtest.Start(t, muts...)
	otherCfg := srv.AWSConfig(testRegion)
	otherCfg.Credentials = credentials.NewStaticCredentialsProvider(otherKey, otherSecret, "")
	return &env{srv: srv, owner: ecr.NewFromConfig(srv.AWSConfig(testRegion)), other: ecr.NewFromConfig(otherCfg)}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// wantCode fails unless err is an AWS API error with code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func randBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// uploadBlob uploads b through ECR's layer upload API, in parts of at most
// part bytes, and returns its digest.
func uploadBlob(t *testing.T, c *ecr.Client, repo string, b []byte, part int) string {
	t.Helper()
	up := must[*ecr.InitiateLayerUploadOutput](t)(c.InitiateLayerUpload(ctx(t), &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(repo)}))
	if aws.ToInt64(up.PartSize) <= 0 {
		t.Errorf("partSize %v", up.PartSize)
	}
	for off := 0; off < len(b); off += part {
		end := min(off+part, len(b))
		out := must[*ecr.UploadLayerPartOutput](t)(c.UploadLayerPart(ctx(t), &ecr.UploadLayerPartInput{
			RepositoryName: aws.String(repo), UploadId: up.UploadId,
			PartFirstByte: aws.Int64(int64(off)), PartLastByte: aws.Int64(int64(end - 1)), LayerPartBlob: b[off:end],
		}))
		if aws.ToInt64(out.LastByteReceived) != int64(end-1) {
			t.Fatalf("lastByteReceived %d, want %d", aws.ToInt64(out.LastByteReceived), end-1)
		}
	}
	d := sha(b)
	out := must[*ecr.CompleteLayerUploadOutput](t)(c.CompleteLayerUpload(ctx(t), &ecr.CompleteLayerUploadInput{
		RepositoryName: aws.String(repo), UploadId: up.UploadId, LayerDigests: []string{d},
	}))
	if aws.ToString(out.LayerDigest) != d {
		t.Fatalf("layerDigest %s, want %s", aws.ToString(out.LayerDigest), d)
	}
	return d
}

// image is a pushed test image.
type image struct {
	Digest   string
	Manifest string
	Config   string // config blob digest
	Layer    string // layer blob digest
	Size     int64  // config + layer
}

const mtManifest = "application/vnd.docker.distribution.manifest.v2+json"

// pushImage uploads a config and a layer and puts a schema 2 manifest
// referencing them, tagged tag ("" for none).
func pushImage(t *testing.T, c *ecr.Client, repo, tag, seed string) image {
	t.Helper()
	cfg := []byte(`{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]},"seed":"` + seed + `"}`)
	layer := append([]byte("layer "+seed+" "), randBytes(t, 3000)...)
	cd := uploadBlob(t, c, repo, cfg, 1<<20)
	ld := uploadBlob(t, c, repo, layer, 1000)
	m := map[string]any{
		"schemaVersion": 2, "mediaType": mtManifest,
		"config": map[string]any{"mediaType": "application/vnd.docker.container.image.v1+json", "digest": cd, "size": len(cfg)},
		"layers": []any{map[string]any{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": ld, "size": len(layer)}},
	}
	body, _ := json.Marshal(m)
	in := &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(string(body)), ImageManifestMediaType: aws.String(mtManifest)}
	if tag != "" {
		in.ImageTag = aws.String(tag)
	}
	out := must[*ecr.PutImageOutput](t)(c.PutImage(ctx(t), in))
	if d := aws.ToString(out.Image.ImageId.ImageDigest); d != sha(body) {
		t.Fatalf("PutImage digest %s, want %s", d, sha(body))
	}
	return image{Digest: sha(body), Manifest: string(body), Config: cd, Layer: ld, Size: int64(len(cfg) + len(layer))}
}

func createRepo(t *testing.T, c *ecr.Client, name string, mut ...types.ImageTagMutability) *types.Repository {
	t.Helper()
	in := &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)}
	if len(mut) > 0 {
		in.ImageTagMutability = mut[0]
	}
	return must[*ecr.CreateRepositoryOutput](t)(c.CreateRepository(ctx(t), in)).Repository
}

func imageIDs(ids []types.ImageIdentifier) []string {
	var out []string
	for _, id := range ids {
		s := aws.ToString(id.ImageDigest)
		if len(s) > 15 {
			s = s[:15]
		}
		if id.ImageTag != nil {
			s += ":" + *id.ImageTag
		}
		out = append(out, s)
	}
	return out
}

func host(u string) string { return strings.TrimPrefix(u, "http://") }
