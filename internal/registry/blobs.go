package registry

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/registry/blobstore"
	"github.com/berth-dev/berth/internal/registry/digest"
	"github.com/berth-dev/berth/internal/store"
)

// BlobInfo describes a blob of a repository.
type BlobInfo struct {
	Digest string
	Size   int64
	// Existed is set by CommitUpload, PutBlob and MountBlob when the
	// repository already had the blob before the call (ECR's
	// CompleteLayerUpload answers LayerAlreadyExistsException then).
	Existed bool
}

func parseBlobDigest(s string) (digest.Digest, error) {
	d, err := digest.Parse(s)
	if err != nil {
		return "", errDigestInvalid("InvalidParameterException", "invalid digest %q: %v", s, err)
	}
	return d, nil
}

// BlobExists reports the blob's info if repository repo may serve it
// (ECR's BatchCheckLayerAvailability). A missing blob is an *Error with
// OCICode BLOB_UNKNOWN (fault NotFound).
func (r *Registry) BlobExists(ctx context.Context, repo, dgst string) (BlobInfo, error) {
	if _, err := r.repository(ctx, repo, false); err != nil {
		return BlobInfo{}, err
	}
	d, err := parseBlobDigest(dgst)
	if err != nil {
		return BlobInfo{}, err
	}
	link, _, err := r.link(ctx, repo, d)
	if err != nil {
		return BlobInfo{}, err
	}
	if link == nil {
		return BlobInfo{}, errBlobUnknown(dgst)
	}
	info, err := r.statOrFetch(ctx, d)
	if errors.Is(err, blobstore.ErrNotFound) {
		return BlobInfo{}, errBlobUnknown(dgst)
	}
	if err != nil {
		return BlobInfo{}, fault.Wrap(err, fault.Internal, "stat blob")
	}
	return BlobInfo{Digest: dgst, Size: info.Size}, nil
}

// OpenBlob opens a blob of repo for reading (seekable, for range reads).
func (r *Registry) OpenBlob(ctx context.Context, repo, dgst string) (io.ReadSeekCloser, BlobInfo, error) {
	if _, err := r.repository(ctx, repo, false); err != nil {
		return nil, BlobInfo{}, err
	}
	d, err := parseBlobDigest(dgst)
	if err != nil {
		return nil, BlobInfo{}, err
	}
	link, _, err := r.link(ctx, repo, d)
	if err != nil {
		return nil, BlobInfo{}, err
	}
	if link == nil {
		return nil, BlobInfo{}, errBlobUnknown(dgst)
	}
	f, info, err := r.blobs.Open(d)
	if errors.Is(err, blobstore.ErrNotFound) {
		if _, err = r.statOrFetch(ctx, d); err == nil {
			f, info, err = r.blobs.Open(d)
		}
	}
	if errors.Is(err, blobstore.ErrNotFound) {
		return nil, BlobInfo{}, errBlobUnknown(dgst)
	}
	if err != nil {
		return nil, BlobInfo{}, fault.Wrap(err, fault.Internal, "open blob")
	}
	return f, BlobInfo{Digest: dgst, Size: info.Size}, nil
}

// statOrFetch stats this registry's file of blob d; when there is none
// and Config.FetchBlob is set, it fetches the blob (from a peer server),
// verifies its digest and stores it first. The caller has checked that the
// store records the blob (a link), so a fetch is never a guess. A blob
// nobody has is blobstore.ErrNotFound.
func (r *Registry) statOrFetch(ctx context.Context, d digest.Digest) (blobstore.Info, error) {
	info, err := r.blobs.Stat(d)
	if !errors.Is(err, blobstore.ErrNotFound) || r.cfg.FetchBlob == nil {
		return info, err
	}
	info, ferr := r.fetch(ctx, d)
	if ferr != nil {
		// To the client the blob is unknown here; the log says why.
		r.log.Warn("cannot fetch a blob the store records", "digest", d, "error", ferr)
		return blobstore.Info{}, err
	}
	return info, nil
}

// fetch gets blob d through Config.FetchBlob and commits it, verified.
func (r *Registry) fetch(ctx context.Context, d digest.Digest) (blobstore.Info, error) {
	body, err := r.cfg.FetchBlob(ctx, d)
	if err != nil {
		return blobstore.Info{}, err
	}
	defer body.Close()
	meta, _ := json.Marshal(uploadInfo{StartedAt: r.now().UTC()}) // purged after UploadTTL if a crash leaves it
	up, err := r.blobs.NewUpload(meta, d.Algorithm())
	if err != nil {
		return blobstore.Info{}, err
	}
	if _, err := up.Append(body); err != nil {
		_ = up.Cancel()
		return blobstore.Info{}, err
	}
	return up.Commit(d) // verifies the digest
}

// OpenLocalBlob opens this registry's own file of blob d, never fetching
// it: what a peer server is served (package peer). A missing file is
// blobstore.ErrNotFound.
func (r *Registry) OpenLocalBlob(d digest.Digest) (io.ReadSeekCloser, error) {
	f, _, err := r.blobs.Open(d)
	return f, err
}

// DeleteBlob removes repo's link to a blob: the repository no longer
// serves it. The bytes are reclaimed by GarbageCollect once nothing
// references them.
func (r *Registry) DeleteBlob(ctx context.Context, repo, dgst string) error {
	if _, err := r.repository(ctx, repo, false); err != nil {
		return err
	}
	d, err := parseBlobDigest(dgst)
	if err != nil {
		return err
	}
	for range maxTxnRetries {
		link, rev, err := r.link(ctx, repo, d)
		if err != nil {
			return err
		}
		if link == nil {
			return errBlobUnknown(dgst)
		}
		key := r.keys.Layer(repo, string(d))
		_, err = r.st.Txn(ctx, []store.Compare{{Key: key, ModRevision: rev}}, []store.Op{{Key: key, Delete: true}})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		return storeErr(err, "delete blob link")
	}
	return errTooMuchContention("blob link")
}

// link reads repo's link to d (nil when absent) and its ModRevision.
func (r *Registry) link(ctx context.Context, repo string, d digest.Digest) (*linkRecord, int64, error) {
	kv, ok, err := r.getOpt(ctx, r.keys.Layer(repo, string(d)))
	if err != nil || !ok {
		return nil, 0, err
	}
	l, err := decodeJSON[linkRecord](kv.Value)
	if err != nil {
		return nil, 0, err
	}
	return l, kv.ModRevision, nil
}

// linkBlob records that repo may serve the blob d of the given size. The
// caller holds r.blobs.Pin(d) and has checked that the file exists. The
// Txn creates (or rewrites) the link and touches the blob record, which is
// what makes it safe against a concurrent GarbageCollect (see doc.go).
func (r *Registry) linkBlob(ctx context.Context, repo string, d digest.Digest, size int64) (existed bool, err error) {
	now := r.now().UTC()
	for range maxTxnRetries {
		linkKV, hadLink, err := r.getOpt(ctx, r.keys.Layer(repo, string(d)))
		if err != nil {
			return false, err
		}
		blobKV, hadBlob, err := r.getOpt(ctx, r.keys.Blob(string(d)))
		if err != nil {
			return false, err
		}
		brec := &blobRecord{Digest: string(d), Size: size, CreatedAt: now}
		if hadBlob {
			if old, err := decodeJSON[blobRecord](blobKV.Value); err == nil {
				brec.CreatedAt = old.CreatedAt
			}
		}
		brec.TouchedAt = now
		lrec := &linkRecord{Digest: string(d), Size: size, CreatedAt: now}
		if hadLink {
			if old, err := decodeJSON[linkRecord](linkKV.Value); err == nil {
				lrec.CreatedAt = old.CreatedAt
			}
		}
		// The blob record is touched without a compare: it never changes
		// but for TouchedAt, and the caller's pin keeps the GC out.
		cmps := []store.Compare{{Key: r.keys.Layer(repo, string(d)), ModRevision: linkKV.ModRevision}}
		ops := []store.Op{
			{Key: r.keys.Layer(repo, string(d)), Value: encodeJSON(lrec)},
			{Key: r.keys.Blob(string(d)), Value: encodeJSON(brec)},
		}
		_, err = r.st.Txn(ctx, cmps, ops)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return false, storeErr(err, "link blob")
		}
		return hadLink, nil
	}
	return false, errTooMuchContention("blob link")
}

// MountBlob links a blob that repository from may serve into repo
// (cross-repository mount). It fails with BLOB_UNKNOWN when from does not
// have the blob; the HTTP handler then falls back to a regular upload.
func (r *Registry) MountBlob(ctx context.Context, repo, from, dgst string) (BlobInfo, error) {
	if _, err := r.repository(ctx, repo, true); err != nil {
		return BlobInfo{}, err
	}
	if _, err := r.repository(ctx, from, false); err != nil {
		return BlobInfo{}, err
	}
	d, err := parseBlobDigest(dgst)
	if err != nil {
		return BlobInfo{}, err
	}
	release := r.blobs.Pin(d)
	defer release()
	link, _, err := r.link(ctx, from, d)
	if err != nil {
		return BlobInfo{}, err
	}
	if link == nil {
		return BlobInfo{}, errBlobUnknown(dgst)
	}
	info, err := r.statOrFetch(ctx, d)
	if errors.Is(err, blobstore.ErrNotFound) {
		return BlobInfo{}, errBlobUnknown(dgst)
	}
	if err != nil {
		return BlobInfo{}, fault.Wrap(err, fault.Internal, "stat blob")
	}
	existed, err := r.linkBlob(ctx, repo, d, info.Size)
	if err != nil {
		return BlobInfo{}, err
	}
	return BlobInfo{Digest: dgst, Size: info.Size, Existed: existed}, nil
}

// PutBlob stores a whole blob in one call (monolithic upload), verifying
// its digest while streaming it to disk.
func (r *Registry) PutBlob(ctx context.Context, repo, dgst string, body io.Reader) (BlobInfo, error) {
	if _, err := r.repository(ctx, repo, true); err != nil {
		return BlobInfo{}, err
	}
	d, err := parseBlobDigest(dgst)
	if err != nil {
		return BlobInfo{}, err
	}
	info, _ := json.Marshal(uploadInfo{Repository: repo, StartedAt: r.now().UTC()})
	up, err := r.blobs.NewUpload(info, d.Algorithm())
	if err != nil {
		return BlobInfo{}, fault.Wrap(err, fault.Internal, "start upload")
	}
	if _, err := up.Append(body); err != nil {
		_ = up.Cancel()
		return BlobInfo{}, fault.Wrap(err, fault.Invalid, "receive blob")
	}
	return r.commit(ctx, repo, up, d)
}

// commit verifies and stores an upload as blob d and links it into repo.
func (r *Registry) commit(ctx context.Context, repo string, up *blobstore.Upload, d digest.Digest) (BlobInfo, error) {
	release := r.blobs.Pin(d)
	defer release()
	info, err := up.Commit(d)
	if errors.Is(err, blobstore.ErrDigestMismatch) {
		return BlobInfo{}, errDigestInvalid("InvalidLayerException", "digest mismatch: %v", err)
	}
	if err != nil {
		return BlobInfo{}, fault.Wrap(err, fault.Internal, "commit blob")
	}
	existed, err := r.linkBlob(ctx, repo, d, info.Size)
	if err != nil {
		return BlobInfo{}, err
	}
	return BlobInfo{Digest: string(d), Size: info.Size, Existed: existed}, nil
}

type uploadInfo struct {
	Repository string    `json:"repository"`
	StartedAt  time.Time `json:"startedAt"`
}
