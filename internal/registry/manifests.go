package registry

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecr"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/registry/blobstore"
	"github.com/berth-dev/berth/internal/registry/digest"
	"github.com/berth-dev/berth/internal/store"
)

// Manifest is a stored manifest of a repository.
type Manifest struct {
	Repository string
	Digest     string
	MediaType  string
	Body       []byte
	// ImageSize is ECR's imageSizeInBytes (config + layers; for an index
	// the total of its children).
	ImageSize       int64
	ArtifactType    string
	ConfigMediaType string
	Subject         string
	Tags            []string
	PushedAt        time.Time
	LastPulledAt    time.Time
}

// PutManifestResult says what a manifest put changed.
type PutManifestResult struct {
	Digest string
	// MediaType is the manifest's media type as stored.
	MediaType string
	// Subject is the manifest's subject digest ("" without one).
	Subject string
	// Created is set when the manifest did not exist in the repository.
	Created bool
	// Tags are the tags applied; TagsMoved those that were created or
	// now point here. !Created && len(TagsMoved) == 0 means the put
	// changed nothing (ECR's ImageAlreadyExistsException).
	Tags      []string
	TagsMoved []string
}

func manifestFromRecord(repo string, rec *imageRecord) *Manifest {
	return &Manifest{
		Repository: repo, Digest: rec.Digest, MediaType: rec.MediaType, Body: rec.Body,
		ImageSize: rec.ImageSize, ArtifactType: rec.ArtifactType, ConfigMediaType: rec.ConfigMediaType,
		Subject: rec.Subject, Tags: slices.Clone(rec.Tags), PushedAt: rec.PushedAt, LastPulledAt: rec.LastPulledAt,
	}
}

// isDigestRef tells a digest reference from a tag (tags cannot contain ':').
func isDigestRef(ref string) bool { return strings.Contains(ref, ":") }

// PutManifest stores a manifest in repo (the distribution API's PUT, ECR's
// PutImage). ref is a tag, a digest (the body must have it), or "" (by
// digest, no tag). mediaType is the request's Content-Type ("" to take it
// from the body). Blobs the manifest references must be linked in repo
// (MANIFEST_BLOB_UNKNOWN otherwise), and the manifests an index references
// must exist in repo.
func (r *Registry) PutManifest(ctx context.Context, repo, ref, mediaType string, body []byte) (PutManifestResult, error) {
	switch {
	case ref == "":
		return r.PutImage(ctx, repo, mediaType, body, "")
	case isDigestRef(ref):
		return r.PutImage(ctx, repo, mediaType, body, ref)
	default:
		return r.PutImage(ctx, repo, mediaType, body, "", ref)
	}
}

// PutImage stores a manifest and points tags at it. When wantDigest is
// set the body must have that digest (its algorithm is used); otherwise
// the digest is the body's sha256.
func (r *Registry) PutImage(ctx context.Context, repo, mediaType string, body []byte, wantDigest string, tags ...string) (PutManifestResult, error) {
	repoRec, err := r.repository(ctx, repo, true)
	if err != nil {
		return PutManifestResult{}, err
	}
	if int64(len(body)) > r.cfg.MaxManifestSize {
		e := errManifestInvalid("manifest of %d bytes exceeds the limit of %d bytes", len(body), r.cfg.MaxManifestSize)
		e.Status = 413
		return PutManifestResult{}, e
	}
	for _, t := range tags {
		if !ValidTag(t) {
			return PutManifestResult{}, errTagInvalid(t)
		}
	}
	tags = dedupe(tags)
	var d digest.Digest
	if wantDigest != "" {
		want, err := digest.Parse(wantDigest)
		if err != nil {
			return PutManifestResult{}, errDigestInvalid("InvalidParameterException", "invalid digest %q: %v", wantDigest, err)
		}
		if !want.Verify(body) {
			return PutManifestResult{}, errDigestInvalid("ImageDigestDoesNotMatchException",
				"manifest digest %s does not match the content (%s)", want, digest.FromBytes(want.Algorithm(), body))
		}
		d = want
	} else {
		d = digest.FromBytes(digest.Canonical, body)
	}
	pm, err := parseManifest(mediaType, body)
	if err != nil {
		return PutManifestResult{}, err
	}

	// Pin the blobs: no GC may delete them between the existence checks
	// below and the commit of the Txn that references them.
	pins := make([]digest.Digest, len(pm.Blobs))
	for i, b := range pm.Blobs {
		pins[i] = b.Digest
	}
	release := r.blobs.Pin(pins...)
	defer release()

	now := r.now().UTC()
	for range maxTxnRetries {
		res, err := r.tryPutManifest(ctx, repoRec, d, pm, body, tags, now)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err == nil && (res.Created || len(res.TagsMoved) > 0) && r.cfg.OnManifestPut != nil {
			r.cfg.OnManifestPut(repo, res)
		}
		return res, err
	}
	return PutManifestResult{}, errTooMuchContention("manifest " + string(d))
}

func dedupe(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// txnBuilder collects compares and ops, keeping keys distinct.
type txnBuilder struct {
	cmps   []store.Compare
	ops    []store.Op
	cmpSet map[string]bool
}

func (t *txnBuilder) cmp(key string, rev int64) {
	if t.cmpSet == nil {
		t.cmpSet = map[string]bool{}
	}
	if !t.cmpSet[key] {
		t.cmpSet[key] = true
		t.cmps = append(t.cmps, store.Compare{Key: key, ModRevision: rev})
	}
}

func (t *txnBuilder) put(key string, v []byte) { t.ops = append(t.ops, store.Op{Key: key, Value: v}) }
func (t *txnBuilder) del(key string)           { t.ops = append(t.ops, store.Op{Key: key, Delete: true}) }

// getImage reads a manifest record (nil when absent) and its ModRevision.
func (r *Registry) getImage(ctx context.Context, repo, dgst string) (*imageRecord, int64, error) {
	kv, ok, err := r.getOpt(ctx, r.keys.Image(repo, dgst))
	if err != nil || !ok {
		return nil, 0, err
	}
	rec, err := decodeImage(kv.Value)
	if err != nil {
		return nil, 0, fault.Wrap(err, fault.Internal, "image %s", dgst)
	}
	return rec, kv.ModRevision, nil
}

func (r *Registry) getTag(ctx context.Context, repo, tag string) (*tagRecord, int64, error) {
	kv, ok, err := r.getOpt(ctx, r.keys.Tag(repo, tag))
	if err != nil || !ok {
		return nil, 0, err
	}
	t, err := decodeJSON[tagRecord](kv.Value)
	if err != nil {
		return nil, 0, err
	}
	return t, kv.ModRevision, nil
}

func (r *Registry) tryPutManifest(ctx context.Context, repoRec *ecr.Repository, d digest.Digest, pm *parsedManifest,
	body []byte, tags []string, now time.Time) (PutManifestResult, error) {
	repo := repoRec.Name
	ds := string(d)
	res := PutManifestResult{Digest: ds, MediaType: pm.MediaType, Subject: pm.Subject, Tags: tags}
	var tb txnBuilder

	rec, rev, err := r.getImage(ctx, repo, ds)
	if err != nil {
		return res, err
	}
	tb.cmp(r.keys.Image(repo, ds), rev)
	if rec == nil {
		res.Created = true
		rec = &imageRecord{
			Digest: ds, MediaType: pm.MediaType, ArtifactType: pm.ArtifactType, ConfigMediaType: pm.ConfigMediaType,
			Subject: pm.Subject, Size: int64(len(body)), ImageSize: pm.ImageSize, PushedAt: now, Body: body,
		}
		// every referenced blob must be linked in this repository, and
		// present on disk (the pin keeps it there)
		for _, b := range pm.Blobs {
			bs := string(b.Digest)
			link, lrev, err := r.link(ctx, repo, b.Digest)
			if err != nil {
				return res, err
			}
			if link == nil {
				return res, errManifestBlobUnknown(bs)
			}
			if link.Size != b.Size {
				return res, errManifestInvalid("descriptor of %s has size %d, but the blob has %d bytes", bs, b.Size, link.Size)
			}
			blobKV, ok, err := r.getOpt(ctx, r.keys.Blob(bs))
			if err != nil {
				return res, err
			}
			if !ok {
				return res, errManifestBlobUnknown(bs)
			}
			if _, err := r.statOrFetch(ctx, b.Digest); errors.Is(err, blobstore.ErrNotFound) {
				return res, errManifestBlobUnknown(bs)
			} else if err != nil {
				return res, fault.Wrap(err, fault.Internal, "stat blob")
			}
			brec, err := decodeJSON[blobRecord](blobKV.Value)
			if err != nil {
				return res, err
			}
			brec.TouchedAt = now
			// the link must still exist at commit; the blob record is
			// touched so that a GC that marked it before this Txn
			// fails its own compare (see doc.go)
			// (no compare on the blob record: its content never changes
			// but for TouchedAt, and the pin keeps the GC from deleting
			// it, so concurrent pushes sharing a layer need not conflict)
			tb.cmp(r.keys.Layer(repo, bs), lrev)
			tb.put(r.keys.Blob(bs), encodeJSON(brec))
			rec.Blobs = append(rec.Blobs, bs)
		}
		for _, c := range pm.Children {
			child, crev, err := r.getImage(ctx, repo, string(c))
			if err != nil {
				return res, err
			}
			if child == nil {
				return res, errManifestChildUnknown(string(c))
			}
			tb.cmp(r.keys.Image(repo, string(c)), crev)
			rec.ImageSize += child.ImageSize
			rec.Manifests = append(rec.Manifests, string(c))
		}
		if pm.Subject != "" {
			at := pm.ArtifactType
			if at == "" && !isIndex(pm.MediaType) {
				at = pm.ConfigMediaType
			}
			rr := referrerRecord{MediaType: pm.MediaType, Digest: ds, Size: int64(len(body)), ArtifactType: at, Annotations: pm.Annotations}
			tb.put(r.keys.Referrer(repo, pm.Subject, ds), encodeJSON(rr))
		}
	}

	// tags
	oldOwners := map[string]*imageRecord{} // other images losing a tag
	oldRevs := map[string]int64{}
	for _, t := range tags {
		trec, trev, err := r.getTag(ctx, repo, t)
		if err != nil {
			return res, err
		}
		tb.cmp(r.keys.Tag(repo, t), trev)
		if trec != nil && trec.Digest == ds {
			if !slices.Contains(rec.Tags, t) { // repair a broken invariant
				rec.Tags = append(rec.Tags, t)
			}
			continue
		}
		if trec != nil && repoRec.Immutable() {
			return res, errTagImmutable(t, repo)
		}
		if trec != nil {
			other, ok := oldOwners[trec.Digest]
			if !ok {
				o, orev, err := r.getImage(ctx, repo, trec.Digest)
				if err != nil {
					return res, err
				}
				other = o
				oldOwners[trec.Digest] = o
				oldRevs[trec.Digest] = orev
				tb.cmp(r.keys.Image(repo, trec.Digest), orev)
			}
			if other != nil {
				other.Tags = slices.DeleteFunc(other.Tags, func(s string) bool { return s == t })
			}
		}
		tb.put(r.keys.Tag(repo, t), encodeJSON(tagRecord{Digest: ds, UpdatedAt: now}))
		if !slices.Contains(rec.Tags, t) {
			rec.Tags = append(rec.Tags, t)
		}
		res.TagsMoved = append(res.TagsMoved, t)
	}
	sort.Strings(rec.Tags)
	for od, other := range oldOwners {
		if other == nil {
			continue
		}
		b, err := encodeImage(other)
		if err != nil {
			return res, err
		}
		tb.put(r.keys.Image(repo, od), b)
	}
	if res.Created || len(res.TagsMoved) > 0 {
		b, err := encodeImage(rec)
		if err != nil {
			return res, err
		}
		tb.put(r.keys.Image(repo, ds), b)
	}
	if len(tb.ops) == 0 {
		return res, nil
	}
	if _, err := r.st.Txn(ctx, tb.cmps, tb.ops); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return res, err
		}
		return res, storeErr(err, "put manifest")
	}
	if res.Created {
		r.log.Debug("registry: manifest put", "repository", repo, "digest", ds, "tags", tags)
	}
	return res, nil
}

// resolve turns a reference (tag or digest) into a manifest record.
func (r *Registry) resolve(ctx context.Context, repo, ref string) (*imageRecord, int64, error) {
	if isDigestRef(ref) {
		if _, err := digest.Parse(ref); err != nil {
			return nil, 0, errDigestInvalid("InvalidParameterException", "invalid digest %q: %v", ref, err)
		}
		rec, rev, err := r.getImage(ctx, repo, ref)
		if err != nil {
			return nil, 0, err
		}
		if rec == nil {
			return nil, 0, errManifestUnknown(ref)
		}
		return rec, rev, nil
	}
	if !ValidTag(ref) {
		return nil, 0, errManifestUnknown(ref)
	}
	t, _, err := r.getTag(ctx, repo, ref)
	if err != nil {
		return nil, 0, err
	}
	if t == nil {
		return nil, 0, errManifestUnknown(ref)
	}
	rec, rev, err := r.getImage(ctx, repo, t.Digest)
	if err != nil {
		return nil, 0, err
	}
	if rec == nil {
		return nil, 0, errManifestUnknown(ref)
	}
	return rec, rev, nil
}

// GetManifest returns a manifest by tag or digest (ECR's BatchGetImage).
func (r *Registry) GetManifest(ctx context.Context, repo, ref string) (*Manifest, error) {
	if _, err := r.repository(ctx, repo, false); err != nil {
		return nil, err
	}
	rec, _, err := r.resolve(ctx, repo, ref)
	if err != nil {
		return nil, err
	}
	return manifestFromRecord(repo, rec), nil
}

// pullRecordInterval is how stale LastPulledAt may get (ECR refreshes it
// "at least once every 24 hours"; berth is more eager).
const pullRecordInterval = time.Hour

// RecordPull updates the manifest's LastPulledAt when it is older than an
// hour. Best effort: a concurrent change simply wins.
func (r *Registry) RecordPull(ctx context.Context, repo, dgst string) {
	now := r.now().UTC()
	rec, rev, err := r.getImage(ctx, repo, dgst)
	if err != nil || rec == nil || now.Sub(rec.LastPulledAt) < pullRecordInterval {
		return
	}
	rec.LastPulledAt = now
	b, err := encodeImage(rec)
	if err != nil {
		return
	}
	key := r.keys.Image(repo, dgst)
	_, _ = r.st.Txn(ctx, []store.Compare{{Key: key, ModRevision: rev}}, []store.Op{{Key: key, Value: b}})
}

// DeleteImage deletes a manifest and every tag pointing at it (ECR's
// BatchDeleteImage by digest). The blobs stay linked until
// GarbageCollect finds them unreferenced.
func (r *Registry) DeleteImage(ctx context.Context, repo, dgst string) error {
	if _, err := r.repository(ctx, repo, false); err != nil {
		return err
	}
	if _, err := digest.Parse(dgst); err != nil {
		return errDigestInvalid("InvalidParameterException", "invalid digest %q: %v", dgst, err)
	}
	for range maxTxnRetries {
		rec, rev, err := r.getImage(ctx, repo, dgst)
		if err != nil {
			return err
		}
		if rec == nil {
			return errManifestUnknown(dgst)
		}
		var tb txnBuilder
		tb.cmp(r.keys.Image(repo, dgst), rev)
		tb.del(r.keys.Image(repo, dgst))
		for _, t := range rec.Tags {
			tk := r.keys.Tag(repo, t)
			kv, ok, err := r.getOpt(ctx, tk)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if tr, err := decodeJSON[tagRecord](kv.Value); err == nil && tr.Digest == dgst {
				tb.cmp(tk, kv.ModRevision)
				tb.del(tk)
			}
		}
		if rec.Subject != "" {
			tb.del(r.keys.Referrer(repo, rec.Subject, dgst))
		}
		_, err = r.st.Txn(ctx, tb.cmps, tb.ops)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		return storeErr(err, "delete image")
	}
	return errTooMuchContention("image " + dgst)
}

// Untag removes a tag (the manifest stays, possibly untagged) and returns
// the digest it pointed at and the tags the manifest still has. ECR
// deletes an image when its last tag is removed: the ECR API does that
// with DeleteImage when remaining is empty.
func (r *Registry) Untag(ctx context.Context, repo, tag string) (dgst string, remaining []string, err error) {
	if _, err := r.repository(ctx, repo, false); err != nil {
		return "", nil, err
	}
	if !ValidTag(tag) {
		return "", nil, errTagInvalid(tag)
	}
	for range maxTxnRetries {
		t, trev, err := r.getTag(ctx, repo, tag)
		if err != nil {
			return "", nil, err
		}
		if t == nil {
			return "", nil, errManifestUnknown(tag)
		}
		var tb txnBuilder
		tb.cmp(r.keys.Tag(repo, tag), trev)
		tb.del(r.keys.Tag(repo, tag))
		rec, rev, err := r.getImage(ctx, repo, t.Digest)
		if err != nil {
			return "", nil, err
		}
		if rec != nil {
			rec.Tags = slices.DeleteFunc(rec.Tags, func(s string) bool { return s == tag })
			b, err := encodeImage(rec)
			if err != nil {
				return "", nil, err
			}
			tb.cmp(r.keys.Image(repo, t.Digest), rev)
			tb.put(r.keys.Image(repo, t.Digest), b)
			remaining = rec.Tags
		}
		_, err = r.st.Txn(ctx, tb.cmps, tb.ops)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return "", nil, storeErr(err, "untag")
		}
		return t.Digest, remaining, nil
	}
	return "", nil, errTooMuchContention("tag " + tag)
}

// ListImages returns every image of a repository, in digest order.
func (r *Registry) ListImages(ctx context.Context, repo string) ([]ecr.Image, error) {
	if _, err := r.repository(ctx, repo, false); err != nil {
		return nil, err
	}
	var out []ecr.Image
	err := r.listAll(ctx, r.keys.ImagesPrefix(repo), func(kv store.KV) error {
		rec, err := decodeImage(kv.Value)
		if err != nil {
			return fault.Wrap(err, fault.Internal, "image %s", kv.Key)
		}
		out = append(out, imageOf(repo, rec))
		return nil
	})
	return out, err
}

func imageOf(repo string, rec *imageRecord) ecr.Image {
	amt := rec.ConfigMediaType
	if rec.ArtifactType != "" {
		amt = rec.ArtifactType
	}
	return ecr.Image{
		RepositoryName: repo, Digest: rec.Digest, MediaType: rec.MediaType, Size: rec.ImageSize,
		PushedAt: rec.PushedAt, Tags: slices.Clone(rec.Tags), LastPulledAt: rec.LastPulledAt, ArtifactMediaType: amt,
	}
}

// DescribeImage returns one image by tag or digest.
func (r *Registry) DescribeImage(ctx context.Context, repo, ref string) (ecr.Image, error) {
	if _, err := r.repository(ctx, repo, false); err != nil {
		return ecr.Image{}, err
	}
	rec, _, err := r.resolve(ctx, repo, ref)
	if err != nil {
		return ecr.Image{}, err
	}
	return imageOf(repo, rec), nil
}

// ListTags returns up to n tags (n <= 0: all) after last, in lexical
// order, and whether more follow.
func (r *Registry) ListTags(ctx context.Context, repo string, n int, last string) (tags []string, more bool, err error) {
	if _, err := r.repository(ctx, repo, false); err != nil {
		return nil, false, err
	}
	prefix := r.keys.TagsPrefix(repo)
	after := ""
	if last != "" {
		after = prefix + last
	}
	if n <= 0 {
		err = r.listAll(ctx, prefix, func(kv store.KV) error {
			if kv.Key > after {
				tags = append(tags, strings.TrimPrefix(kv.Key, prefix))
			}
			return nil
		})
		return tags, false, err
	}
	kvs, _, err := r.st.List(ctx, prefix, store.ListOptions{StartAfter: after, Limit: n + 1})
	if err != nil {
		return nil, false, storeErr(err, "list tags")
	}
	for i, kv := range kvs {
		if i == n {
			more = true
			break
		}
		tags = append(tags, strings.TrimPrefix(kv.Key, prefix))
	}
	return tags, more, nil
}

// Referrer is one entry of the referrers API.
type Referrer struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// Referrers returns the manifests of repo whose subject is dgst,
// optionally only those of one artifact type.
func (r *Registry) Referrers(ctx context.Context, repo, dgst, artifactType string) ([]Referrer, error) {
	if _, err := r.repository(ctx, repo, false); err != nil {
		return nil, err
	}
	if _, err := digest.Parse(dgst); err != nil {
		return nil, errDigestInvalid("InvalidParameterException", "invalid digest %q: %v", dgst, err)
	}
	out := []Referrer{}
	err := r.listAll(ctx, r.keys.SubjectReferrersPrefix(repo, dgst), func(kv store.KV) error {
		rr, err := decodeJSON[referrerRecord](kv.Value)
		if err != nil {
			return err
		}
		if artifactType == "" || rr.ArtifactType == artifactType {
			out = append(out, Referrer(*rr))
		}
		return nil
	})
	return out, err
}

// ListRepositoryNames returns the repositories (from their records) in
// lexical order, up to n (n <= 0: all) after last, and whether more follow.
func (r *Registry) ListRepositoryNames(ctx context.Context, n int, last string) (names []string, more bool, err error) {
	prefix := r.keys.ReposPrefix()
	err = r.listAll(ctx, prefix, func(kv store.KV) error {
		name, err := ecr.UnescapeName(strings.TrimPrefix(kv.Key, prefix))
		if err == nil && name > last {
			names = append(names, name)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	sort.Strings(names)
	if n > 0 && len(names) > n {
		return names[:n], true, nil
	}
	return names, false, nil
}

// HasImages reports whether a repository holds any manifest (ECR refuses
// to delete a non-empty repository without force).
func (r *Registry) HasImages(ctx context.Context, repo string) (bool, error) {
	kvs, _, err := r.st.List(ctx, r.keys.ImagesPrefix(repo), store.ListOptions{Limit: 1})
	if err != nil {
		return false, storeErr(err, "list images")
	}
	return len(kvs) > 0, nil
}

// PurgeRepository deletes every manifest, tag, blob link and referrer
// entry of a repository (ECR's DeleteRepository with force; the control
// plane deletes the repository record itself). Blob bytes are reclaimed
// by GarbageCollect. Open upload sessions of the repository are cancelled.
func (r *Registry) PurgeRepository(ctx context.Context, repo string) error {
	for _, prefix := range []string{r.keys.TagsPrefix(repo), r.keys.ReferrersPrefix(repo), r.keys.ImagesPrefix(repo), r.keys.LayersPrefix(repo)} {
		for {
			kvs, _, err := r.st.List(ctx, prefix, store.ListOptions{Limit: 200})
			if err != nil {
				return storeErr(err, "purge repository")
			}
			if len(kvs) == 0 {
				break
			}
			ops := make([]store.Op, len(kvs))
			for i, kv := range kvs {
				ops[i] = store.Op{Key: kv.Key, Delete: true}
			}
			if _, err := r.st.Txn(ctx, nil, ops); err != nil {
				return storeErr(err, "purge repository")
			}
		}
	}
	r.sessMu.Lock()
	var victims []*session
	for _, s := range r.sessions {
		if s.repo == repo {
			victims = append(victims, s)
		}
	}
	r.sessMu.Unlock()
	for _, s := range victims {
		_ = r.CancelUpload(ctx, repo, s.id)
	}
	return nil
}
