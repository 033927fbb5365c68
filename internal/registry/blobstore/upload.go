package blobstore

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/registry/digest"
)

const infoSuffix = ".info"

// Upload is one blob upload in progress. It is not safe for concurrent
// use; callers serialize access to one upload.
type Upload struct {
	s      *Store
	id     string
	f      *os.File
	size   int64 // bytes written to the file
	hashes map[string]hash.Hash
	closed bool
	// hashDone is closed when the hasher of the last Append has hashed
	// all it was given (nil: nothing pending); see pipelinedAppend.
	hashDone chan struct{}
	// lag holds a token per chunk read but not yet hashed.
	lag chan struct{}
	// flushed is the offset up to which writeback has been started (see
	// startWriteback); synced the size when the last background fsync
	// started, sync that fsync while it may be running, and syncErr the
	// first error a background fsync reported (see maybeSync).
	flushed int64
	synced  int64
	sync    *bgSync
	syncErr error
}

func (s *Store) newUpload(id string, f *os.File, algs []string) *Upload {
	return &Upload{s: s, id: id, f: f, hashes: newHashes(algs), lag: make(chan struct{}, maxHashLag)}
}

// NewUploadID returns a random version-4 UUID.
func NewUploadID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ValidUploadID reports whether id has the shape NewUploadID produces
// (which also makes it safe as a file name).
func ValidUploadID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}

func (s *Store) uploadPath(id string) string { return filepath.Join(s.uploads, id) }

// NewUpload starts an upload with a fresh ID. info is opaque caller
// metadata kept beside the upload (the registry stores the repository
// name) and returned by UploadInfo. algs names the digest algorithms to
// hash incrementally (default sha256); Commit with another algorithm
// re-reads the upload once.
func (s *Store) NewUpload(info []byte, algs ...string) (*Upload, error) {
	id := NewUploadID()
	if err := writeFileAtomic(s.uploadPath(id)+infoSuffix, info); err != nil {
		return nil, fmt.Errorf("blobstore: new upload: %w", err)
	}
	f, err := os.OpenFile(s.uploadPath(id), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		_ = os.Remove(s.uploadPath(id) + infoSuffix)
		return nil, fmt.Errorf("blobstore: new upload: %w", err)
	}
	return s.newUpload(id, f, algs), nil
}

func newHashes(algs []string) map[string]hash.Hash {
	m := make(map[string]hash.Hash, 1)
	for _, a := range algs {
		if h := digest.NewHash(a); h != nil {
			m[a] = h
		}
	}
	if len(m) == 0 {
		m[digest.Canonical] = digest.NewHash(digest.Canonical)
	}
	return m
}

// ResumeUpload reopens an upload left by an earlier Upload (for example
// before a restart). Its content so far is re-hashed from the file.
func (s *Store) ResumeUpload(id string, algs ...string) (*Upload, error) {
	if !ValidUploadID(id) {
		return nil, fmt.Errorf("%w: %q", ErrUploadNotFound, id)
	}
	f, err := os.OpenFile(s.uploadPath(id), os.O_RDWR, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrUploadNotFound, id)
		}
		return nil, fmt.Errorf("blobstore: resume upload: %w", err)
	}
	u := s.newUpload(id, f, algs)
	ws := make([]io.Writer, 0, len(u.hashes))
	for _, h := range u.hashes {
		ws = append(ws, h)
	}
	n, err := io.Copy(io.MultiWriter(ws...), f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blobstore: resume upload: %w", err)
	}
	u.size = n
	u.flushed, u.synced = n, n
	return u, nil
}

// UploadInfo returns the metadata an upload was started with.
func (s *Store) UploadInfo(id string) ([]byte, error) {
	if !ValidUploadID(id) {
		return nil, fmt.Errorf("%w: %q", ErrUploadNotFound, id)
	}
	b, err := os.ReadFile(s.uploadPath(id) + infoSuffix)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrUploadNotFound, id)
		}
		return nil, fmt.Errorf("blobstore: upload info: %w", err)
	}
	return b, nil
}

// RemoveUpload deletes an upload's files. Removing a missing upload is not
// an error. The upload must not be open.
func (s *Store) RemoveUpload(id string) error {
	if !ValidUploadID(id) {
		return fmt.Errorf("%w: %q", ErrUploadNotFound, id)
	}
	for _, p := range []string{s.uploadPath(id), s.uploadPath(id) + infoSuffix} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("blobstore: remove upload: %w", err)
		}
	}
	return nil
}

// UploadEntry describes an upload on disk.
type UploadEntry struct {
	ID      string
	Size    int64
	ModTime time.Time // last write
}

// WalkUploads calls fn for every upload on disk.
func (s *Store) WalkUploads(fn func(UploadEntry) error) error {
	entries, err := os.ReadDir(s.uploads)
	if err != nil {
		return fmt.Errorf("blobstore: walk uploads: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, infoSuffix) {
			id := strings.TrimSuffix(name, infoSuffix)
			if _, err := os.Stat(s.uploadPath(id)); errors.Is(err, fs.ErrNotExist) && ValidUploadID(id) {
				// an orphaned info file (crash during NewUpload/Remove): report it too
				fi, ierr := e.Info()
				if ierr == nil {
					if err := fn(UploadEntry{ID: id, ModTime: fi.ModTime()}); err != nil {
						return err
					}
				}
			}
			continue
		}
		if !ValidUploadID(name) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if err := fn(UploadEntry{ID: name, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
			return err
		}
	}
	return nil
}

// ID is the upload's UUID.
func (u *Upload) ID() string { return u.id }

// Size is the number of bytes received so far.
func (u *Upload) Size() int64 { return u.size }

// Append streams r to the end of the upload and returns the bytes
// appended. On an error (a client that went away, a full disk) the bytes
// that were written stay part of the upload, and Size reflects them.
// Hashing may finish after Append returns (see pipelinedAppend).
func (u *Upload) Append(r io.Reader) (int64, error) {
	if u.closed {
		return 0, ErrUploadClosed
	}
	return u.pipelinedAppend(r)
}

// Digest returns the digest of the content so far with algorithm alg,
// re-reading the file when alg was not hashed incrementally.
func (u *Upload) Digest(alg string) (digest.Digest, error) {
	if u.closed {
		return "", ErrUploadClosed
	}
	u.waitHash()
	if h, ok := u.hashes[alg]; ok {
		return digest.FromHash(alg, h), nil
	}
	h := digest.NewHash(alg)
	if h == nil {
		return "", fmt.Errorf("%w: %q", digest.ErrUnsupported, alg)
	}
	f, err := os.Open(u.s.uploadPath(u.id))
	if err != nil {
		return "", fmt.Errorf("blobstore: rehash upload: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(h, io.LimitReader(f, u.size)); err != nil {
		return "", fmt.Errorf("blobstore: rehash upload: %w", err)
	}
	return digest.FromHash(alg, h), nil
}

// Commit verifies that the content has digest want, then makes it the
// blob want: fsync, atomic rename into place (or, if the blob already
// exists, removal of the upload). On a digest mismatch the upload is
// discarded and the error wraps ErrDigestMismatch. After Commit returns
// (with any result) the upload is closed. Callers that record the blob's
// existence elsewhere hold Pin(want) across Commit and that record.
func (u *Upload) Commit(want digest.Digest) (Info, error) {
	if u.closed {
		return Info{}, ErrUploadClosed
	}
	if err := validDigest(want); err != nil {
		_ = u.Cancel()
		return Info{}, err
	}
	got, err := u.Digest(want.Algorithm())
	if err != nil {
		_ = u.Cancel()
		return Info{}, err
	}
	if got != want {
		_ = u.Cancel()
		return Info{}, fmt.Errorf("%w: computed %s, expected %s", ErrDigestMismatch, got, want)
	}
	if err := u.syncAll(); err != nil {
		_ = u.Cancel()
		return Info{}, fmt.Errorf("blobstore: commit: %w", err)
	}
	if err := u.f.Close(); err != nil {
		u.closed = true
		_ = u.s.RemoveUpload(u.id)
		return Info{}, fmt.Errorf("blobstore: commit: %w", err)
	}
	u.closed = true
	s := u.s
	dst := s.path(want)
	if fi, err := os.Stat(dst); err == nil {
		_ = s.RemoveUpload(u.id)
		return Info{Digest: want, Size: fi.Size(), ModTime: fi.ModTime()}, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		_ = s.RemoveUpload(u.id)
		return Info{}, fmt.Errorf("blobstore: commit: %w", err)
	}
	if err := os.Rename(s.uploadPath(u.id), dst); err != nil {
		_ = s.RemoveUpload(u.id)
		return Info{}, fmt.Errorf("blobstore: commit: %w", err)
	}
	syncDir(filepath.Dir(dst))
	_ = os.Remove(s.uploadPath(u.id) + infoSuffix)
	fi, err := os.Stat(dst)
	if err != nil {
		return Info{}, fmt.Errorf("blobstore: commit: %w", err)
	}
	return Info{Digest: want, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// syncAll waits for a background fsync in flight, then fsyncs the file.
// A background fsync that failed may have been the only one told of a
// lost write, so its error counts too.
func (u *Upload) syncAll() error {
	if err := u.waitSync(); err != nil {
		return fmt.Errorf("background sync: %w", err)
	}
	return u.f.Sync()
}

// Close releases the upload's file handle and keeps its content on disk
// for a later ResumeUpload, unless a background fsync failed: then the
// upload is deleted (a later fsync on a new handle might not report the
// lost write) and the error returned.
func (u *Upload) Close() error {
	if u.closed {
		return nil
	}
	u.closed = true
	u.waitHash()
	serr := u.waitSync()
	err := u.f.Close()
	if serr != nil {
		_ = u.s.RemoveUpload(u.id)
		return fmt.Errorf("blobstore: close upload: background sync: %w", serr)
	}
	return err
}

// Cancel closes the upload and deletes its content.
func (u *Upload) Cancel() error {
	if !u.closed {
		u.closed = true
		u.waitHash()
		_ = u.waitSync()
		_ = u.f.Close()
	}
	return u.s.RemoveUpload(u.id)
}

// writeFileAtomic writes b to path via a temporary file and a rename.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
