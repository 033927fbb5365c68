package registry

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// imageRecord is the stored record of one manifest, the value at
// Keys.Image(repo, digest). The manifest bytes are stored verbatim after a
// JSON header (see encodeImage) so that a 4 MiB manifest is not inflated by
// base64 or JSON escaping.
type imageRecord struct {
	Digest          string    `json:"digest"`
	MediaType       string    `json:"mediaType"`
	ArtifactType    string    `json:"artifactType,omitempty"`
	ConfigMediaType string    `json:"configMediaType,omitempty"`
	Subject         string    `json:"subject,omitempty"`
	Size            int64     `json:"size"`
	ImageSize       int64     `json:"imageSize"`
	PushedAt        time.Time `json:"pushedAt"`
	LastPulledAt    time.Time `json:"lastPulledAt"`
	// Tags are the tags pointing at this manifest, sorted. Invariant:
	// tags/<repo>/<t> holds digest D iff D's record lists t; both change
	// in the same Txn.
	Tags []string `json:"tags,omitempty"`
	// Blobs are the blob digests the manifest references and the registry
	// verified (config and distributable layers); the GC mark phase reads them.
	Blobs []string `json:"blobs,omitempty"`
	// Manifests are the child manifests an index references.
	Manifests []string `json:"manifests,omitempty"`
	Body      []byte   `json:"-"`
}

const imageMagic = "bim1"

func encodeImage(rec *imageRecord) ([]byte, error) {
	hdr, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(imageMagic)+4+len(hdr)+len(rec.Body))
	out = append(out, imageMagic...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(hdr)))
	out = append(out, hdr...)
	return append(out, rec.Body...), nil
}

func decodeImage(b []byte) (*imageRecord, error) {
	if len(b) < len(imageMagic)+4 || string(b[:len(imageMagic)]) != imageMagic {
		return nil, errors.New("registry: malformed image record")
	}
	b = b[len(imageMagic):]
	n := binary.BigEndian.Uint32(b)
	b = b[4:]
	if uint64(n) > uint64(len(b)) {
		return nil, errors.New("registry: malformed image record header")
	}
	var rec imageRecord
	if err := json.Unmarshal(b[:n], &rec); err != nil {
		return nil, fmt.Errorf("registry: decode image record: %w", err)
	}
	rec.Body = b[n:]
	return &rec, nil
}

// tagRecord is the value at Keys.Tag(repo, tag).
type tagRecord struct {
	Digest    string    `json:"digest"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// linkRecord is the value at Keys.Layer(repo, digest): the repository may
// serve the blob.
type linkRecord struct {
	Digest    string    `json:"digest"`
	Size      int64     `json:"size"`
	CreatedAt time.Time `json:"createdAt"`
}

// blobRecord is the value at Keys.Blob(digest): the blob file exists and
// is known to the metadata. Every write that makes a blob reachable (a new
// link, a new manifest referencing it) rewrites ("touches") this record in
// the same Txn, which changes its ModRevision; the garbage collector
// deletes a blob only with a Txn comparing the ModRevision it marked.
type blobRecord struct {
	Digest    string    `json:"digest"`
	Size      int64     `json:"size"`
	CreatedAt time.Time `json:"createdAt"`
	TouchedAt time.Time `json:"touchedAt"`
}

// referrerRecord is the value at Keys.Referrer(repo, subject, digest): the
// descriptor the referrers API returns.
type referrerRecord struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

func encodeJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // records are plain structs
	}
	return b
}

func decodeJSON[T any](b []byte) (*T, error) {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("registry: decode record: %w", err)
	}
	return &v, nil
}
