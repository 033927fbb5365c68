package blobstore

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
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
	time.Sleep(50 * time.Millisecond)
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
