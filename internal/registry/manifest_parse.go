package registry

import (
	"encoding/json"
	"mime"
	"strings"

	"github.com/berth-dev/berth/internal/registry/digest"
)

// Manifest media types the registry accepts.
const (
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeOCIManifest        = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeOCIIndex           = "application/vnd.oci.image.index.v1+json"

	mediaTypeDockerSchema1       = "application/vnd.docker.distribution.manifest.v1+json"
	mediaTypeDockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
	mediaTypeDockerForeignLayer  = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
)

func isIndex(mt string) bool { return mt == MediaTypeOCIIndex || mt == MediaTypeDockerManifestList }

func knownManifestType(mt string) bool {
	switch mt {
	case MediaTypeDockerManifest, MediaTypeDockerManifestList, MediaTypeOCIManifest, MediaTypeOCIIndex:
		return true
	}
	return false
}

type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	URLs         []string          `json:"urls,omitempty"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

type manifestDoc struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        *descriptor       `json:"config"`
	Layers        []descriptor      `json:"layers"`
	Manifests     []descriptor      `json:"manifests"`
	Subject       *descriptor       `json:"subject"`
	Annotations   map[string]string `json:"annotations"`
	FSLayers      json.RawMessage   `json:"fsLayers"`
}

// blobRef is a blob a manifest requires, with the size its descriptor claims.
type blobRef struct {
	Digest digest.Digest
	Size   int64
}

// parsedManifest is what validation extracts from a manifest.
type parsedManifest struct {
	MediaType       string
	ArtifactType    string
	ConfigMediaType string
	Subject         string
	Annotations     map[string]string
	Blobs           []blobRef       // config + distributable layers, deduplicated
	Children        []digest.Digest // index entries, deduplicated
	ImageSize       int64           // config + layers (image manifests)
}

// parseManifest determines the media type of body (from the request's
// Content-Type, the body's mediaType field, or its shape) and validates
// it.
func parseManifest(contentType string, body []byte) (*parsedManifest, error) {
	ct := contentType
	if ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err == nil {
			ct = mt
		}
	}
	var doc manifestDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, errManifestInvalid("manifest is not valid JSON: %v", err)
	}
	mt := ct
	switch {
	case knownManifestType(ct):
		if doc.MediaType != "" && doc.MediaType != ct {
			return nil, errManifestInvalid("manifest mediaType %q does not match Content-Type %q", doc.MediaType, ct)
		}
	case ct == mediaTypeDockerSchema1 || ct == mediaTypeDockerSchema1Signed || doc.FSLayers != nil || doc.SchemaVersion == 1:
		return nil, errManifestInvalid("Docker image manifest schema 1 is not supported; push with schema 2 or OCI")
	case ct == "" || ct == "application/json" || ct == "application/octet-stream" || ct == "text/plain":
		switch {
		case knownManifestType(doc.MediaType):
			mt = doc.MediaType
		case doc.MediaType != "":
			return nil, errManifestInvalid("unsupported manifest media type %q", doc.MediaType)
		case doc.Manifests != nil:
			mt = MediaTypeOCIIndex
		case doc.Config != nil:
			mt = MediaTypeOCIManifest
		default:
			return nil, errManifestInvalid("cannot determine the manifest media type")
		}
	default:
		return nil, errManifestInvalid("unsupported manifest media type %q", ct)
	}
	if doc.SchemaVersion != 2 {
		return nil, errManifestInvalid("schemaVersion must be 2, got %d", doc.SchemaVersion)
	}
	pm := &parsedManifest{MediaType: mt, ArtifactType: doc.ArtifactType, Annotations: doc.Annotations}
	if doc.Subject != nil {
		if _, err := checkDescriptor("subject", doc.Subject); err != nil {
			return nil, err
		}
		pm.Subject = doc.Subject.Digest
	}
	seen := map[digest.Digest]bool{}
	if isIndex(mt) {
		if doc.Config != nil || doc.Layers != nil {
			return nil, errManifestInvalid("an index has no config or layers")
		}
		for i := range doc.Manifests {
			d, err := checkDescriptor("manifests", &doc.Manifests[i])
			if err != nil {
				return nil, err
			}
			if !seen[d] {
				seen[d] = true
				pm.Children = append(pm.Children, d)
			}
		}
		return pm, nil
	}
	if doc.Manifests != nil {
		return nil, errManifestInvalid("an image manifest has no manifests list")
	}
	if doc.Config == nil {
		return nil, errManifestInvalid("image manifest has no config descriptor")
	}
	d, err := checkDescriptor("config", doc.Config)
	if err != nil {
		return nil, err
	}
	pm.ConfigMediaType = doc.Config.MediaType
	pm.ImageSize = doc.Config.Size
	seen[d] = true
	pm.Blobs = append(pm.Blobs, blobRef{Digest: d, Size: doc.Config.Size})
	for i := range doc.Layers {
		l := &doc.Layers[i]
		d, err := checkDescriptor("layers", l)
		if err != nil {
			return nil, err
		}
		pm.ImageSize += l.Size
		if nonDistributable(l.MediaType) || seen[d] {
			continue
		}
		seen[d] = true
		pm.Blobs = append(pm.Blobs, blobRef{Digest: d, Size: l.Size})
	}
	return pm, nil
}

// nonDistributable layers live elsewhere (their urls) and are not pushed.
func nonDistributable(mt string) bool {
	return strings.Contains(mt, ".nondistributable.") || mt == mediaTypeDockerForeignLayer
}

func checkDescriptor(field string, d *descriptor) (digest.Digest, error) {
	dg, err := digest.Parse(d.Digest)
	if err != nil {
		return "", errManifestInvalid("%s: invalid descriptor digest %q: %v", field, d.Digest, err)
	}
	if d.Size < 0 {
		return "", errManifestInvalid("%s: negative descriptor size for %s", field, d.Digest)
	}
	if d.MediaType == "" {
		return "", errManifestInvalid("%s: descriptor %s has no mediaType", field, d.Digest)
	}
	return dg, nil
}
