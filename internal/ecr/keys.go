package ecr

import (
	"net/url"
	"strings"
)

// Keys builds the state-store keys of one account and region's ECR tree:
//
//	/ecr/<account>/<region>/
//	├── repos/<repo>                           Repository record (control plane)
//	├── images/<repo>/<digest>                 manifest record (registry)
//	├── tags/<repo>/<tag>                      tag → digest (registry)
//	├── layers/<repo>/<digest>                 blob link: repo may serve blob (registry)
//	├── referrers/<repo>/<subject>/<digest>    referrers index (registry)
//	└── blobs/<digest>                         blob record, one per stored blob (registry)
//
// <repo> is url.PathEscape'd (team/web-app → team%2Fweb-app). Digests and
// tags never contain '/'.
type Keys struct {
	Account string
	Region  string
}

func (k Keys) base() string { return "/ecr/" + k.Account + "/" + k.Region + "/" }

// EscapeName escapes a repository name for use as one key segment.
func EscapeName(name string) string { return url.PathEscape(name) }

// UnescapeName reverses EscapeName.
func UnescapeName(seg string) (string, error) { return url.PathUnescape(seg) }

// ReposPrefix is the prefix of all repository records.
func (k Keys) ReposPrefix() string { return k.base() + "repos/" }

// Repo is the key of a repository record.
func (k Keys) Repo(name string) string { return k.ReposPrefix() + EscapeName(name) }

// ImagesRoot is the prefix of the manifest records of every repository.
func (k Keys) ImagesRoot() string { return k.base() + "images/" }

// ImagesPrefix is the prefix of one repository's manifest records.
func (k Keys) ImagesPrefix(repo string) string { return k.ImagesRoot() + EscapeName(repo) + "/" }

// Image is the key of one manifest record.
func (k Keys) Image(repo, digest string) string { return k.ImagesPrefix(repo) + digest }

// TagsRoot is the prefix of the tags of every repository.
func (k Keys) TagsRoot() string { return k.base() + "tags/" }

// TagsPrefix is the prefix of one repository's tags.
func (k Keys) TagsPrefix(repo string) string { return k.TagsRoot() + EscapeName(repo) + "/" }

// Tag is the key of one tag.
func (k Keys) Tag(repo, tag string) string { return k.TagsPrefix(repo) + tag }

// LayersRoot is the prefix of the blob links of every repository.
func (k Keys) LayersRoot() string { return k.base() + "layers/" }

// LayersPrefix is the prefix of one repository's blob links.
func (k Keys) LayersPrefix(repo string) string { return k.LayersRoot() + EscapeName(repo) + "/" }

// Layer is the key of one blob link.
func (k Keys) Layer(repo, digest string) string { return k.LayersPrefix(repo) + digest }

// ReferrersRoot is the prefix of the referrers index of every repository.
func (k Keys) ReferrersRoot() string { return k.base() + "referrers/" }

// ReferrersPrefix is the prefix of one repository's referrers index.
func (k Keys) ReferrersPrefix(repo string) string {
	return k.ReferrersRoot() + EscapeName(repo) + "/"
}

// SubjectReferrersPrefix is the prefix of the referrers of one subject.
func (k Keys) SubjectReferrersPrefix(repo, subject string) string {
	return k.ReferrersPrefix(repo) + subject + "/"
}

// Referrer is the key of one referrers-index entry.
func (k Keys) Referrer(repo, subject, digest string) string {
	return k.SubjectReferrersPrefix(repo, subject) + digest
}

// BlobsPrefix is the prefix of the registry-wide blob records.
func (k Keys) BlobsPrefix() string { return k.base() + "blobs/" }

// Blob is the key of one blob record.
func (k Keys) Blob(digest string) string { return k.BlobsPrefix() + digest }

// SplitRepoKey splits a key below prefix (one of the *Root prefixes) into the
// unescaped repository name and the rest of the key.
func SplitRepoKey(prefix, key string) (repo, rest string, ok bool) {
	s, found := strings.CutPrefix(key, prefix)
	if !found {
		return "", "", false
	}
	seg, rest, found := strings.Cut(s, "/")
	if !found {
		return "", "", false
	}
	name, err := UnescapeName(seg)
	if err != nil {
		return "", "", false
	}
	return name, rest, true
}
