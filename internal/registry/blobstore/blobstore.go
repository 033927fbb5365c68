// Package blobstore keeps content-addressed blobs as files on disk.
//
// Layout under the root directory:
//
//	<root>/blobs/<algorithm>/<first two hex chars>/<hex>   committed blobs
//	<root>/uploads/<uuid>                                  upload in progress
//	<root>/uploads/<uuid>.info                             upload's caller metadata
//
// An upload streams to its own file while its digest is computed
// incrementally. Commit verifies the digest, fsyncs the file and renames it
// into place atomically, so a blob path only ever names complete, verified
// content; an interrupted upload is never visible as a blob. Each blob is
// stored once: committing content that already exists drops the upload.
//
// Nothing here buffers a whole blob in memory: an upload streams through
// at most a few 1 MiB chunk buffers (read and written to the file by the
// caller's goroutine, hashed by another; background fsyncs along the way
// leave Commit's fsync only the tail), and reads hand out the open file.
//
// Deletion and creation of one digest are coordinated with in-process
// locks (Pin and Exclusive): writers that check a blob exists and then
// record that fact elsewhere (the registry's metadata) hold a shared pin
// across both steps, and the garbage collector holds the exclusive lock
// while it re-checks and deletes. See the registry package documentation
// for the full argument.
package blobstore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/registry/digest"
)

// Errors returned (possibly wrapped) by the store.
var (
	ErrNotFound       = errors.New("blobstore: blob not found")
	ErrDigestMismatch = errors.New("blobstore: content does not match digest")
	ErrUploadNotFound = errors.New("blobstore: upload not found")
	ErrUploadClosed   = errors.New("blobstore: upload closed")
)

// Info describes a committed blob.
type Info struct {
	Digest  digest.Digest
	Size    int64
	ModTime time.Time
}

// Store is a blob directory. It is safe for concurrent use.
type Store struct {
	root    string
	blobs   string
	uploads string
	locks   lockTable
}

// Open opens (creating if needed) a blob store rooted at dir.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("blobstore: empty root directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	s := &Store{root: abs, blobs: filepath.Join(abs, "blobs"), uploads: filepath.Join(abs, "uploads")}
	for _, d := range []string{s.blobs, s.uploads} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("blobstore: %w", err)
		}
	}
	s.locks.m = make(map[digest.Digest]*lockEntry)
	return s, nil
}

// Root returns the store's root directory.
func (s *Store) Root() string { return s.root }

func (s *Store) path(d digest.Digest) string {
	enc := d.Encoded()
	return filepath.Join(s.blobs, d.Algorithm(), enc[:2], enc)
}

func validDigest(d digest.Digest) error {
	if _, err := digest.Parse(string(d)); err != nil {
		return err
	}
	return nil
}

// Stat returns the blob's info or ErrNotFound.
func (s *Store) Stat(d digest.Digest) (Info, error) {
	if err := validDigest(d); err != nil {
		return Info{}, err
	}
	fi, err := os.Stat(s.path(d))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Info{}, fmt.Errorf("%w: %s", ErrNotFound, d)
		}
		return Info{}, fmt.Errorf("blobstore: stat %s: %w", d, err)
	}
	return Info{Digest: d, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Open opens the blob for reading. The returned file stays readable even
// if the blob is deleted while it is open.
func (s *Store) Open(d digest.Digest) (io.ReadSeekCloser, Info, error) {
	if err := validDigest(d); err != nil {
		return nil, Info{}, err
	}
	f, err := os.Open(s.path(d))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, Info{}, fmt.Errorf("%w: %s", ErrNotFound, d)
		}
		return nil, Info{}, fmt.Errorf("blobstore: open %s: %w", d, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Info{}, fmt.Errorf("blobstore: stat %s: %w", d, err)
	}
	return f, Info{Digest: d, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Delete removes a blob. Deleting a missing blob is not an error. Callers
// that coordinate with writers hold Exclusive(d) around the decision to
// delete and the Delete itself.
func (s *Store) Delete(d digest.Digest) error {
	if err := validDigest(d); err != nil {
		return err
	}
	p := s.path(d)
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blobstore: delete %s: %w", d, err)
	}
	syncDir(filepath.Dir(p))
	return nil
}

// Walk calls fn for every committed blob, in no particular order. Files
// that are not well-formed blob paths are ignored. A non-nil error from fn
// stops the walk and is returned.
func (s *Store) Walk(fn func(Info) error) error {
	algs, err := os.ReadDir(s.blobs)
	if err != nil {
		return fmt.Errorf("blobstore: walk: %w", err)
	}
	for _, a := range algs {
		if !a.IsDir() || !digest.Supported(a.Name()) {
			continue
		}
		adir := filepath.Join(s.blobs, a.Name())
		prefixes, err := os.ReadDir(adir)
		if err != nil {
			return fmt.Errorf("blobstore: walk: %w", err)
		}
		for _, p := range prefixes {
			if !p.IsDir() {
				continue
			}
			entries, err := os.ReadDir(filepath.Join(adir, p.Name()))
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				return fmt.Errorf("blobstore: walk: %w", err)
			}
			for _, e := range entries {
				d, err := digest.Parse(a.Name() + ":" + e.Name())
				if err != nil || !strings.HasPrefix(e.Name(), p.Name()) || !e.Type().IsRegular() {
					continue
				}
				fi, err := e.Info()
				if err != nil {
					continue // deleted meanwhile
				}
				if err := fn(Info{Digest: d, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// syncDir fsyncs a directory so that a rename or unlink in it is durable.
// Errors are ignored: some filesystems do not support it.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		_ = f.Close()
	}
}

// lockTable holds one reader/writer lock per digest in use.
type lockTable struct {
	mu sync.Mutex
	m  map[digest.Digest]*lockEntry
}

type lockEntry struct {
	rw   sync.RWMutex
	refs int
}

func (t *lockTable) get(d digest.Digest) *lockEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.m[d]
	if e == nil {
		e = &lockEntry{}
		t.m[d] = e
	}
	e.refs++
	return e
}

func (t *lockTable) put(d digest.Digest) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.m[d]
	e.refs--
	if e.refs == 0 {
		delete(t.m, d)
	}
}

// Pin takes shared locks on the digests (in a fixed order, so that pins
// never deadlock each other) and returns the function that releases them.
// While a digest is pinned no Exclusive holder can run; a writer pins the
// digests it checks for existence until the fact that it relies on them
// is recorded.
func (s *Store) Pin(ds ...digest.Digest) (release func()) {
	sorted := make([]digest.Digest, 0, len(ds))
	seen := make(map[digest.Digest]bool, len(ds))
	for _, d := range ds {
		if !seen[d] {
			seen[d] = true
			sorted = append(sorted, d)
		}
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	entries := make([]*lockEntry, len(sorted))
	for i, d := range sorted {
		e := s.locks.get(d)
		e.rw.RLock()
		entries[i] = e
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			for i := len(sorted) - 1; i >= 0; i-- {
				entries[i].rw.RUnlock()
				s.locks.put(sorted[i])
			}
		})
	}
}

// Exclusive takes the exclusive lock of one digest: it waits for every pin
// of d to be released and keeps new pins out until unlock is called. Only
// the garbage collector uses it, one digest at a time.
func (s *Store) Exclusive(d digest.Digest) (unlock func()) {
	e := s.locks.get(d)
	e.rw.Lock()
	var once sync.Once
	return func() {
		once.Do(func() {
			e.rw.Unlock()
			s.locks.put(d)
		})
	}
}
