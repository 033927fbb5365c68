package ecr

import (
	"encoding/json"
	"fmt"
	"time"
)

// Tag mutability settings of a repository.
const (
	TagMutable   = "MUTABLE"
	TagImmutable = "IMMUTABLE"
)

// Encryption types of a repository.
const (
	EncryptionAES256 = "AES256"
	EncryptionKMS    = "KMS"
)

// Repository is the stored record of one ECR repository, the value at
// Keys.Repo(name). The control plane writes it; the registry reads it to
// decide whether a push is allowed and whether tags are immutable.
type Repository struct {
	Name               string    `json:"name"`
	ARN                string    `json:"arn"`
	RegistryID         string    `json:"registryId"`
	URI                string    `json:"uri"`
	CreatedAt          time.Time `json:"createdAt"`
	ImageTagMutability string    `json:"imageTagMutability,omitempty"`
	ScanOnPush         bool      `json:"scanOnPush,omitempty"`
	EncryptionType     string    `json:"encryptionType,omitempty"`
	KMSKey             string    `json:"kmsKey,omitempty"`
}

// Immutable reports whether the repository's tags may not be overwritten.
func (r *Repository) Immutable() bool { return r.ImageTagMutability == TagImmutable }

// EncodeRepository returns the stored form of r.
func EncodeRepository(r *Repository) ([]byte, error) { return json.Marshal(r) }

// DecodeRepository parses a stored repository record.
func DecodeRepository(b []byte) (*Repository, error) {
	var r Repository
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("ecr: decode repository record: %w", err)
	}
	return &r, nil
}

// NewRepository returns a repository record with ECR's defaults (mutable
// tags, AES256 encryption) and the ARN, registry ID and URI derived from the
// account and region.
func NewRepository(account, region, name string, createdAt time.Time) *Repository {
	return &Repository{
		Name:               name,
		ARN:                RepositoryARN(account, region, name),
		RegistryID:         account,
		URI:                RepositoryURI(account, region, name),
		CreatedAt:          createdAt.UTC(),
		ImageTagMutability: TagMutable,
		EncryptionType:     EncryptionAES256,
	}
}

// Image is one image (manifest) of a repository as the ECR API describes it
// (DescribeImages, ListImages, BatchGetImage). It is computed by the
// registry from its manifest and tag records; it is not stored as such.
type Image struct {
	RepositoryName string
	// Digest is the manifest digest ("sha256:...").
	Digest string
	// MediaType is the manifest's media type.
	MediaType string
	// Size is ECR's imageSizeInBytes: the total size of the config and
	// layers an image manifest references (for an index, the total of
	// the child images), not the size of the manifest itself.
	Size     int64
	PushedAt time.Time
	// Tags are the image's tags in lexical order (empty for an untagged image).
	Tags []string
	// LastPulledAt is the last recorded pull (zero when never pulled).
	// Like ECR, it is refreshed at most about once an hour.
	LastPulledAt time.Time
	// ArtifactMediaType is the media type of the image's config (ECR's
	// artifactMediaType), or the manifest's artifactType when it has one.
	ArtifactMediaType string
}

// RegistryHost is the registry host name of an account and region:
// <account>.dkr.ecr.<region>.amazonaws.com.
func RegistryHost(account, region string) string {
	return account + ".dkr.ecr." + region + ".amazonaws.com"
}

// RepositoryARN is arn:aws:ecr:<region>:<account>:repository/<name>.
func RepositoryARN(account, region, name string) string {
	return "arn:aws:ecr:" + region + ":" + account + ":repository/" + name
}

// RepositoryURI is <registry host>/<name>.
func RepositoryURI(account, region, name string) string {
	return RegistryHost(account, region) + "/" + name
}
