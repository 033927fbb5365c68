package registry

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/registry/blobstore"
)

// session is an upload session: the open upload plus a mutex serializing
// requests on it. Sessions live in r.sessions while in use; after a
// restart they are reloaded from disk on first use.
type session struct {
	mu        sync.Mutex
	id        string
	repo      string
	startedAt time.Time
	lastUsed  time.Time
	up        *blobstore.Upload // nil until loaded
	done      bool              // committed, cancelled or purged
}

// UploadStatus describes an upload session.
type UploadStatus struct {
	ID         string
	Repository string
	// Size is the number of bytes received so far; the next chunk starts
	// at this offset.
	Size      int64
	StartedAt time.Time
}

// StartUpload opens an upload session in repo (ECR's InitiateLayerUpload).
func (r *Registry) StartUpload(ctx context.Context, repo string) (UploadStatus, error) {
	if _, err := r.repository(ctx, repo, true); err != nil {
		return UploadStatus{}, err
	}
	now := r.now().UTC()
	info, _ := json.Marshal(uploadInfo{Repository: repo, StartedAt: now})
	up, err := r.blobs.NewUpload(info)
	if err != nil {
		return UploadStatus{}, fault.Wrap(err, fault.Internal, "start upload")
	}
	s := &session{id: up.ID(), repo: repo, startedAt: now, lastUsed: now, up: up}
	r.sessMu.Lock()
	r.sessions[s.id] = s
	r.sessMu.Unlock()
	return UploadStatus{ID: s.id, Repository: repo, StartedAt: now}, nil
}

// acquire returns the session id of repo, locked. The caller unlocks
// s.mu. A session of another repository is unknown here.
func (r *Registry) acquire(repo, id string) (*session, error) {
	if !blobstore.ValidUploadID(id) {
		return nil, errUploadUnknown(id)
	}
	for {
		r.sessMu.Lock()
		s, ok := r.sessions[id]
		if !ok {
			// not in memory: perhaps left by an earlier process
			raw, err := r.blobs.UploadInfo(id)
			if err != nil {
				r.sessMu.Unlock()
				return nil, errUploadUnknown(id)
			}
			var ui uploadInfo
			if json.Unmarshal(raw, &ui) != nil {
				r.sessMu.Unlock()
				return nil, errUploadUnknown(id)
			}
			s = &session{id: id, repo: ui.Repository, startedAt: ui.StartedAt}
			s.mu.Lock() // held while loading, outside sessMu
			r.sessions[id] = s
			r.sessMu.Unlock()
			up, err := r.blobs.ResumeUpload(id)
			if err != nil {
				s.done = true
				r.dropSession(s)
				s.mu.Unlock()
				return nil, errUploadUnknown(id)
			}
			s.up = up
		} else {
			r.sessMu.Unlock()
			s.mu.Lock()
		}
		if s.done {
			s.mu.Unlock()
			r.sessMu.Lock()
			cur := r.sessions[id]
			r.sessMu.Unlock()
			if cur != s {
				// gone from memory (committed, cancelled, or closed
				// while idle): look again, on disk if need be
				continue
			}
			return nil, errUploadUnknown(id)
		}
		if s.repo != repo {
			s.mu.Unlock()
			return nil, errUploadUnknown(id)
		}
		s.lastUsed = r.now()
		return s, nil
	}
}

func (r *Registry) dropSession(s *session) {
	r.sessMu.Lock()
	if r.sessions[s.id] == s {
		delete(r.sessions, s.id)
	}
	r.sessMu.Unlock()
}

func (s *session) status() UploadStatus {
	return UploadStatus{ID: s.id, Repository: s.repo, Size: s.up.Size(), StartedAt: s.startedAt}
}

// GetUploadStatus returns an upload session's progress.
func (r *Registry) GetUploadStatus(ctx context.Context, repo, id string) (UploadStatus, error) {
	if _, err := r.repository(ctx, repo, false); err != nil {
		return UploadStatus{}, err
	}
	s, err := r.acquire(repo, id)
	if err != nil {
		return UploadStatus{}, err
	}
	defer s.mu.Unlock()
	return s.status(), nil
}

// AppendUpload streams body to the end of an upload (a PATCH chunk, or
// ECR's UploadLayerPart). offset is where the chunk starts; it must equal
// the bytes received so far, else the result is an out-of-order error
// (HTTP 416) and nothing is read. offset < 0 appends without the check
// (a streamed PATCH). length >= 0 is the declared chunk length: at most
// that many bytes are read, and a shorter body is an error (the bytes
// that did arrive stay in the upload). The upload is never bounded by a
// deadline here: a slow client keeps its session.
func (r *Registry) AppendUpload(ctx context.Context, repo, id string, offset, length int64, body io.Reader) (UploadStatus, error) {
	if _, err := r.repository(ctx, repo, false); err != nil {
		return UploadStatus{}, err
	}
	s, err := r.acquire(repo, id)
	if err != nil {
		return UploadStatus{}, err
	}
	defer s.mu.Unlock()
	if err := r.appendLocked(s, offset, length, body); err != nil {
		return s.status(), err
	}
	return s.status(), nil
}

func (r *Registry) appendLocked(s *session, offset, length int64, body io.Reader) error {
	size := s.up.Size()
	if offset >= 0 && offset != size {
		return errRange(size, "chunk starts at %d, but the upload has %d bytes", offset, size)
	}
	if body == nil {
		return nil
	}
	if length >= 0 {
		body = io.LimitReader(body, length)
	}
	n, err := s.up.Append(body)
	s.lastUsed = r.now()
	if err != nil {
		return fault.Wrap(err, fault.Invalid, "receive chunk after %d bytes", n)
	}
	if length >= 0 && n != length {
		return errUploadInvalid("chunk declared %d bytes, received %d", length, n)
	}
	return nil
}

// CommitUpload finishes an upload as blob dgst (the final PUT, or ECR's
// CompleteLayerUpload). When body is non-nil it is a last chunk appended
// first, with the same offset/length rules as AppendUpload. On a digest
// mismatch the upload is discarded and the error has OCICode
// DIGEST_INVALID. The session ends with any result except a chunk-offset
// error, a malformed digest, or a failure to read the last chunk.
func (r *Registry) CommitUpload(ctx context.Context, repo, id, dgst string, offset, length int64, body io.Reader) (BlobInfo, error) {
	if _, err := r.repository(ctx, repo, false); err != nil {
		return BlobInfo{}, err
	}
	d, err := parseBlobDigest(dgst)
	if err != nil {
		return BlobInfo{}, err
	}
	s, err := r.acquire(repo, id)
	if err != nil {
		return BlobInfo{}, err
	}
	defer s.mu.Unlock()
	if body != nil || offset >= 0 {
		if err := r.appendLocked(s, offset, length, body); err != nil {
			return BlobInfo{}, err
		}
	}
	// The session leaves the map only after the upload's files are gone,
	// so that no concurrent request can reload it from disk mid-commit.
	s.done = true
	info, err := r.commit(ctx, repo, s.up, d)
	r.dropSession(s)
	return info, err
}

// CancelUpload abandons an upload and deletes what it received.
func (r *Registry) CancelUpload(ctx context.Context, repo, id string) error {
	if _, err := r.repository(ctx, repo, false); err != nil {
		return err
	}
	s, err := r.acquire(repo, id)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.done = true
	err = s.up.Cancel()
	r.dropSession(s)
	if err != nil {
		return fault.Wrap(err, fault.Internal, "cancel upload")
	}
	return nil
}

// purgeUploads closes idle sessions' files and deletes uploads idle for
// longer than the TTL. Busy sessions are skipped.
func (r *Registry) purgeUploads(now time.Time) (purged int) {
	const idleClose = 10 * time.Minute
	r.sessMu.Lock()
	for id, s := range r.sessions {
		if !s.mu.TryLock() {
			continue
		}
		if !s.done && now.Sub(s.lastUsed) > idleClose {
			// release the file handle; the upload stays on disk and
			// is resumed (re-hashed) on next use
			if s.up != nil {
				_ = s.up.Close()
			}
			s.done = true
			delete(r.sessions, id)
		}
		s.mu.Unlock()
	}
	// r.sessMu is held: no session can be (re)loaded while we delete files
	_ = r.blobs.WalkUploads(func(e blobstore.UploadEntry) error {
		if _, busy := r.sessions[e.ID]; busy {
			return nil
		}
		if now.Sub(e.ModTime) > r.cfg.UploadTTL {
			if err := r.blobs.RemoveUpload(e.ID); err == nil {
				purged++
			}
		}
		return nil
	})
	r.sessMu.Unlock()
	return purged
}
