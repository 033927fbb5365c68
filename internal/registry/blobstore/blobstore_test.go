package blobstore

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/registry/digest"
)

func randBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUploadCommitChunked(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := randBytes(t, 300<<10)
	want := digest.FromBytes(digest.SHA256, data)
	u, err := s.NewUpload([]byte("repo"))
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(data); off += 70000 {
		end := min(off+70000, len(data))
		if _, err := u.Append(bytes.NewReader(data[off:end])); err != nil {
			t.Fatal(err)
		}
		if u.Size() != int64(end) {
			t.Fatalf("size %d, want %d", u.Size(), end)
		}
	}
	if _, err := s.Stat(want); !errors.Is(err, ErrNotFound) {
		t.Fatalf("blob visible before commit: %v", err)
	}
	info, err := u.Commit(want)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != int64(len(data)) {
		t.Fatalf("size %d", info.Size)
	}
	p := filepath.Join(s.Root(), "blobs", "sha256", want.Encoded()[:2], want.Encoded())
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("blob file missing: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "uploads", u.ID())); !os.IsNotExist(err) {
		t.Fatalf("upload file left behind: %v", err)
	}
	rc, _, err := s.Open(want)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := rc.Seek(1000, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 100)
	if _, err := io.ReadFull(rc, part); err != nil || !bytes.Equal(part, data[1000:1100]) {
		t.Fatalf("range read mismatch: %v", err)
	}

	// same content again: stored once, upload dropped
	u2, _ := s.NewUpload(nil)
	u2.Append(bytes.NewReader(data))
	if _, err := u2.Commit(want); err != nil {
		t.Fatal(err)
	}
	n := 0
	s.Walk(func(Info) error { n++; return nil })
	if n != 1 {
		t.Fatalf("walk found %d blobs", n)
	}
	var ups int
	s.WalkUploads(func(UploadEntry) error { ups++; return nil })
	if ups != 0 {
		t.Fatalf("%d uploads left", ups)
	}
}

func TestCommitMismatchDiscards(t *testing.T) {
	s, _ := Open(t.TempDir())
	u, _ := s.NewUpload(nil)
	u.Append(bytes.NewReader([]byte("hello")))
	_, err := u.Commit(digest.FromBytes(digest.SHA256, []byte("world")))
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("err = %v", err)
	}
	if _, err := s.ResumeUpload(u.ID()); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("upload survived mismatch: %v", err)
	}
	n := 0
	s.Walk(func(Info) error { n++; return nil })
	if n != 0 {
		t.Fatal("blob stored after mismatch")
	}
}

func TestResumeAndSHA512(t *testing.T) {
	s, _ := Open(t.TempDir())
	data := randBytes(t, 5000)
	u, _ := s.NewUpload([]byte("meta"))
	u.Append(bytes.NewReader(data[:2000]))
	id := u.ID()
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	// reopen a new store on the same root (a restart)
	s2, _ := Open(s.Root())
	info, err := s2.UploadInfo(id)
	if err != nil || string(info) != "meta" {
		t.Fatalf("info %q %v", info, err)
	}
	u2, err := s2.ResumeUpload(id)
	if err != nil {
		t.Fatal(err)
	}
	if u2.Size() != 2000 {
		t.Fatalf("resumed size %d", u2.Size())
	}
	u2.Append(bytes.NewReader(data[2000:]))
	want := digest.FromBytes(digest.SHA512, data)
	if _, err := u2.Commit(want); err != nil {
		t.Fatal(err)
	}
	if fi, err := s2.Stat(want); err != nil || fi.Size != 5000 {
		t.Fatalf("stat %v %v", fi, err)
	}
	if err := s2.Delete(want); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Stat(want); !errors.Is(err, ErrNotFound) {
		t.Fatal("blob still there after delete")
	}
	if _, err := s2.ResumeUpload("../../etc/passwd"); !errors.Is(err, ErrUploadNotFound) {
		t.Fatal("accepted a path as upload id")
	}
}

func TestEmptyBlob(t *testing.T) {
	s, _ := Open(t.TempDir())
	u, _ := s.NewUpload(nil)
	want := digest.FromBytes(digest.SHA256, nil)
	if _, err := u.Commit(want); err != nil {
		t.Fatal(err)
	}
	if fi, err := s.Stat(want); err != nil || fi.Size != 0 {
		t.Fatal(fi, err)
	}
}

// waitingIn reports whether a goroutine is blocked on a sync.RWMutex's
// Lock called from the function fn (as its stack shows).
func waitingIn(fn string) bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "[sync.RWMutex.Lock") && strings.Contains(g, fn) {
			return true
		}
	}
	return false
}

func TestPinExcludesExclusive(t *testing.T) {
	s, _ := Open(t.TempDir())
	d := digest.FromBytes(digest.SHA256, []byte("x"))
	e := digest.FromBytes(digest.SHA256, []byte("y"))
	release := s.Pin(e, d, d)
	var got atomic.Bool
	done := make(chan struct{})
	go func() {
		unlock := s.Exclusive(d)
		got.Store(true)
		unlock()
		close(done)
	}()
	// Wait until the goroutine waits for the lock (or, wrongly, has it).
	for deadline := time.Now().Add(10 * time.Second); !waitingIn("blobstore.(*Store).Exclusive"); time.Sleep(time.Millisecond) {
		if got.Load() {
			t.Fatal("exclusive lock taken while pinned")
		}
		if time.Now().After(deadline) {
			t.Fatal("Exclusive never waited for the lock")
		}
	}
	if got.Load() {
		t.Fatal("exclusive lock taken while pinned")
	}
	release()
	release() // idempotent
	<-done
	if len(s.locks.m) != 0 {
		t.Fatalf("lock table leaked %d entries", len(s.locks.m))
	}
}

// TestPipelinedAppend streams bodies that take the single-chunk path, the
// pipelined path (several chunks, an exact multiple of the chunk size, and
// past the writeback threshold) through Append, in odd-sized reads.
func TestPipelinedAppend(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, appendChunk - 1, appendChunk, 3 * appendChunk, writebackEvery + appendChunk/2 + 7} {
		data := randBytes(t, n)
		u, err := s.NewUpload([]byte("repo"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := u.Append(io.MultiReader(bytes.NewReader(data[:n/3]), bytes.NewReader(data[n/3:])))
		if err != nil || got != int64(n) || u.Size() != int64(n) {
			t.Fatalf("%d bytes: appended %d (size %d), %v", n, got, u.Size(), err)
		}
		want := digest.FromBytes(digest.SHA256, data)
		info, err := u.Commit(want)
		if err != nil || info.Size != int64(n) {
			t.Fatalf("%d bytes: commit %+v %v", n, info, err)
		}
		f, _, err := s.Open(want)
		if err != nil {
			t.Fatal(err)
		}
		back, _ := io.ReadAll(f)
		f.Close()
		if !bytes.Equal(back, data) {
			t.Fatalf("%d bytes: stored content differs", n)
		}
	}
}

// failingReader returns r's bytes, then err.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// TestAppendsWithHashLag appends multi-chunk bodies back to back, so that
// each Append's hashing is still running when the next one starts, mixes
// in bodies that take the single-chunk path, and checks Digest at points
// in between (it must wait for the pending hashing).
func TestAppendsWithHashLag(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sizes := []int{5*appendChunk/2 + 3, 7, 3 * appendChunk, appendChunk, 1, maxHashLag*appendChunk + 11, 100}
	total := 0
	for _, n := range sizes {
		total += n
	}
	data := randBytes(t, total)
	u, err := s.NewUpload(nil)
	if err != nil {
		t.Fatal(err)
	}
	off := 0
	for i, n := range sizes {
		got, err := u.Append(bytes.NewReader(data[off : off+n]))
		off += n
		if err != nil || got != int64(n) || u.Size() != int64(off) {
			t.Fatalf("append %d: %d bytes (size %d), %v", i, got, u.Size(), err)
		}
		if i%2 == 1 {
			d, err := u.Digest(digest.SHA256)
			if err != nil || d != digest.FromBytes(digest.SHA256, data[:off]) {
				t.Fatalf("digest after append %d: %s %v", i, d, err)
			}
		}
	}
	want := digest.FromBytes(digest.SHA256, data)
	if _, err := u.Commit(want); err != nil {
		t.Fatal(err)
	}
	f, _, err := s.Open(want)
	if err != nil {
		t.Fatal(err)
	}
	back, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(back, data) {
		t.Fatal("stored content differs")
	}
}

// TestAppendReadError: a body that fails part-way leaves exactly the bytes
// that arrived in the upload, with a matching hash, whichever path the
// failure hits (first chunk, later chunk, chunk boundary).
func TestAppendReadError(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("connection reset")
	for _, n := range []int{0, 1000, appendChunk, 2*appendChunk + 5, syncEvery + 3} {
		data := randBytes(t, n+appendChunk)
		u, _ := s.NewUpload(nil)
		// a first Append whose hashing may still be pending
		if _, err := u.Append(bytes.NewReader(data[:appendChunk])); err != nil {
			t.Fatal(err)
		}
		got, err := u.Append(&failingReader{bytes.NewReader(data[appendChunk:]), boom})
		if !errors.Is(err, boom) || got != int64(n) || u.Size() != int64(n+appendChunk) {
			t.Fatalf("%d bytes then error: appended %d (size %d), %v", n, got, u.Size(), err)
		}
		// the session carries on: the client resends the rest
		u.Append(bytes.NewReader([]byte("tail")))
		want := digest.FromBytes(digest.SHA256, append(data[:len(data):len(data)], "tail"...))
		if _, err := u.Commit(want); err != nil {
			t.Fatalf("%d bytes then error: commit: %v", n, err)
		}
	}
}

// TestAppendWriteError: when the file refuses the bytes, Append fails, and
// neither the size nor the hash counts them.
func TestAppendWriteError(t *testing.T) {
	s, _ := Open(t.TempDir())
	for _, n := range []int{10, 3 * appendChunk} {
		u, _ := s.NewUpload(nil)
		head := randBytes(t, 2*appendChunk)
		u.Append(bytes.NewReader(head))
		u.f.Close() // the disk goes away
		if _, err := u.Append(bytes.NewReader(randBytes(t, n))); err == nil {
			t.Fatalf("%d bytes: append to a closed file succeeded", n)
		}
		if u.Size() != int64(len(head)) {
			t.Fatalf("%d bytes: size %d after a failed write", n, u.Size())
		}
		d, _ := u.Digest(digest.SHA256)
		if d != digest.FromBytes(digest.SHA256, head) {
			t.Fatalf("%d bytes: hash counts bytes the file refused", n)
		}
		u.Cancel()
	}
}

// TestBackgroundSyncs: a large upload is fsynced along the way, and a
// failed background fsync (whose error the kernel reports only once)
// fails the commit and discards the upload, and a Close then deletes it.
func TestBackgroundSyncs(t *testing.T) {
	s, _ := Open(t.TempDir())
	data := randBytes(t, 2*syncEvery+appendChunk)
	want := digest.FromBytes(digest.SHA256, data)
	var calls atomic.Int32
	var fail atomic.Bool
	backgroundSync = func(f *os.File) error {
		calls.Add(1)
		if fail.Load() {
			return errors.New("EIO")
		}
		return f.Sync()
	}
	defer func() { backgroundSync = (*os.File).Sync }()

	u, _ := s.NewUpload(nil)
	if _, err := u.Append(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if calls.Load() == 0 {
		t.Fatal("no background fsync during a large upload")
	}
	if _, err := u.Commit(want); err != nil {
		t.Fatal(err)
	}

	fail.Store(true)
	u, _ = s.NewUpload(nil)
	u.Append(bytes.NewReader(data))
	if _, err := u.Commit(want); err == nil || !strings.Contains(err.Error(), "EIO") {
		t.Fatalf("commit after a failed background fsync: %v", err)
	}
	if _, err := s.ResumeUpload(u.ID()); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("upload kept after a failed background fsync: %v", err)
	}

	u, _ = s.NewUpload(nil)
	u.Append(bytes.NewReader(data))
	if err := u.Close(); err == nil {
		t.Fatal("close hid a failed background fsync")
	}
	if _, err := s.ResumeUpload(u.ID()); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("upload kept after a failed background fsync: %v", err)
	}
}

// TestCloseWithHashPending: Close right after a large Append keeps the
// whole content for a resume.
func TestCloseWithHashPending(t *testing.T) {
	s, _ := Open(t.TempDir())
	data := randBytes(t, 3*appendChunk+17)
	u, _ := s.NewUpload(nil)
	u.Append(bytes.NewReader(data))
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	u2, err := s.ResumeUpload(u.ID())
	if err != nil || u2.Size() != int64(len(data)) {
		t.Fatalf("resume: %v, size %d", err, u2.Size())
	}
	if _, err := u2.Commit(digest.FromBytes(digest.SHA256, data)); err != nil {
		t.Fatal(err)
	}
}
