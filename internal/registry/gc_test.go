package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/registry/blobstore"
	"github.com/berth-dev/berth/internal/registry/digest"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func blobOnDisk(t *testing.T, r *Registry, d string) bool {
	t.Helper()
	_, err := r.blobs.Stat(digest.Digest(d))
	if err != nil && !errors.Is(err, blobstore.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func TestGarbageCollect(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	e := newTestEnv(t, func(c *Config) { c.Now = clock.Now; c.GCGracePeriod = time.Hour })
	ctx := context.Background()
	createRepo(t, e.st, "a", false)
	createRepo(t, e.st, "b", false)
	kept := makeImage(t, MediaTypeOCIManifest, "kept")
	gone := makeImage(t, MediaTypeOCIManifest, "gone")
	expect(t, e.pushImage(t, "a", "kept", kept, MediaTypeOCIManifest), 201, "")
	expect(t, e.pushImage(t, "a", "gone", gone, MediaTypeOCIManifest), 201, "")
	// the kept image's layer is also mounted in b (a second link)
	expect(t, e.do(t, "POST", "/v2/b/blobs/uploads/?mount="+kept.layerDig+"&from=a", nil, nil), 201, "")
	orphan, orphanDig := randBlob(t, 300)
	e.pushBlob(t, "b", orphan)
	expect(t, e.do(t, "DELETE", "/v2/a/manifests/"+gone.digest, nil, nil), 202, "")

	// everything is young: nothing goes
	st, err := e.reg.GarbageCollect(ctx)
	if err != nil || st.BlobsDeleted != 0 {
		t.Fatalf("young GC %+v %v", st, err)
	}
	// the blob files' mtimes are real time: move the clock past them too
	clock.Add(2 * time.Hour)
	st, err = e.reg.GarbageCollect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.BlobsDeleted != 3 || st.BytesFreed != int64(len(gone.config)+len(gone.layer)+len(orphan)) {
		t.Fatalf("GC stats %+v", st)
	}
	for _, d := range []string{gone.configDig, gone.layerDig, orphanDig} {
		if blobOnDisk(t, e.reg, d) {
			t.Errorf("blob %s survived GC", d)
		}
	}
	expect(t, e.do(t, "HEAD", "/v2/b/blobs/"+orphanDig, nil, nil), 404, "")
	for _, d := range []string{kept.configDig, kept.layerDig} {
		if !blobOnDisk(t, e.reg, d) {
			t.Errorf("referenced blob %s collected", d)
		}
	}
	expect(t, e.do(t, "GET", "/v2/a/blobs/"+kept.layerDig, nil, nil), 200, "")
	expect(t, e.do(t, "GET", "/v2/b/blobs/"+kept.layerDig, nil, nil), 200, "")
	// once the last manifest goes, its blobs are collected too
	expect(t, e.do(t, "DELETE", "/v2/a/manifests/"+kept.digest, nil, nil), 202, "")
	st, _ = e.reg.GarbageCollect(ctx)
	if st.BlobsDeleted != 2 || st.LinksDeleted != 3 {
		t.Fatalf("second GC %+v", st)
	}
	// a collected blob can be pushed again
	expect(t, e.pushImage(t, "a", "again", kept, MediaTypeOCIManifest), 201, "")
	expect(t, e.do(t, "GET", "/v2/a/blobs/"+kept.layerDig, nil, nil), 200, "")
}

// TestGCRaceManifestAfterMark: a manifest put between the GC's mark and
// its sweep keeps the blobs it references.
func TestGCRaceManifestAfterMark(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	e := newTestEnv(t, func(c *Config) { c.Now = clock.Now; c.GCGracePeriod = time.Minute })
	createRepo(t, e.st, "a", false)
	im := makeImage(t, MediaTypeOCIManifest, "race")
	e.pushBlob(t, "a", im.config)
	e.pushBlob(t, "a", im.layer)
	clock.Add(time.Hour) // the blobs are old and unreferenced: candidates
	var putErr error
	e.reg.gcBeforeSweep = func() {
		_, putErr = e.reg.PutManifest(context.Background(), "a", "v1", MediaTypeOCIManifest, im.manifest)
	}
	st, err := e.reg.GarbageCollect(context.Background())
	if err != nil || putErr != nil {
		t.Fatalf("gc %v, put %v", err, putErr)
	}
	if st.BlobsDeleted != 0 || st.Skipped != 2 {
		t.Fatalf("GC stats %+v", st)
	}
	for _, d := range []string{im.configDig, im.layerDig} {
		if !blobOnDisk(t, e.reg, d) {
			t.Fatalf("blob %s of a committed manifest was collected", d)
		}
	}
	expect(t, e.do(t, "GET", "/v2/a/blobs/"+im.layerDig, nil, nil), 200, "")
}

// TestGCRaceUploadAfterMark: re-uploading (or mounting) a candidate blob
// between mark and sweep keeps it.
func TestGCRaceUploadAfterMark(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	e := newTestEnv(t, func(c *Config) { c.Now = clock.Now; c.GCGracePeriod = time.Minute })
	createRepo(t, e.st, "a", false)
	createRepo(t, e.st, "b", false)
	b, d := randBlob(t, 1000)
	e.pushBlob(t, "a", b)
	clock.Add(time.Hour)
	e.reg.gcBeforeSweep = func() {
		// the file already exists: the upload is dropped and only the
		// link (and a touch of the blob record) are written
		if _, err := e.reg.PutBlob(context.Background(), "b", d, bytes.NewReader(b)); err != nil {
			t.Error(err)
		}
	}
	st, err := e.reg.GarbageCollect(context.Background())
	if err != nil || st.BlobsDeleted != 0 {
		t.Fatalf("GC %+v %v", st, err)
	}
	expect(t, e.do(t, "GET", "/v2/b/blobs/"+d, nil, nil), 200, "")
	expect(t, e.do(t, "GET", "/v2/a/blobs/"+d, nil, nil), 200, "")
}

// TestGCBlockedByPin: the sweep waits for a writer that pinned the blob
// (checked it exists) and then sees its write.
func TestGCBlockedByPin(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	e := newTestEnv(t, func(c *Config) { c.Now = clock.Now; c.GCGracePeriod = time.Minute })
	createRepo(t, e.st, "a", false)
	im := makeImage(t, MediaTypeOCIManifest, "pin")
	e.pushBlob(t, "a", im.config)
	e.pushBlob(t, "a", im.layer)
	clock.Add(time.Hour)
	// a writer holds the pin across "check exists" and "commit"
	release := e.reg.blobs.Pin(digest.Digest(im.layerDig), digest.Digest(im.configDig))
	marked := make(chan struct{})
	e.reg.gcBeforeSweep = func() { close(marked) }
	done := make(chan GCStats)
	go func() {
		st, _ := e.reg.GarbageCollect(context.Background())
		done <- st
	}()
	<-marked
	select {
	case <-done:
		t.Fatal("GC swept a pinned blob")
	case <-time.After(100 * time.Millisecond):
	}
	// while pinned, the writer commits a manifest (tryPutManifest is what
	// PutManifest runs under its own pin)
	repoRec, _ := e.reg.repository(context.Background(), "a", false)
	pm, err := parseManifest(MediaTypeOCIManifest, im.manifest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.reg.tryPutManifest(context.Background(), repoRec, digest.Digest(im.digest), pm, im.manifest, []string{"v1"}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	release()
	st := <-done
	if st.BlobsDeleted != 0 {
		t.Fatalf("GC deleted blobs referenced by a manifest committed under pin: %+v", st)
	}
	expect(t, e.do(t, "GET", "/v2/a/manifests/v1", nil, nil), 200, "")
	expect(t, e.do(t, "GET", "/v2/a/blobs/"+im.layerDig, nil, nil), 200, "")
}

// TestGCStress runs pushes against a GC looping with no grace period: a
// push may have to re-upload a blob the GC took, but no successfully put
// manifest ever loses a blob.
func TestGCStress(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.GCGracePeriod = time.Nanosecond })
	ctx := context.Background()
	createRepo(t, e.st, "s", false)
	// a layer of several chunks: its uploads go through the pipelined path
	shared, _ := randBlob(t, 2<<20+2000)
	var stop atomic.Bool
	var gcRuns, retries atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			if _, err := e.reg.GarbageCollect(ctx); err != nil {
				t.Error(err)
				return
			}
			gcRuns.Add(1)
		}
	}()
	type pushed struct{ digest, config, layer string }
	var mu sync.Mutex
	var done []pushed
	var pw sync.WaitGroup
	for w := 0; w < 4; w++ {
		pw.Add(1)
		go func() {
			defer pw.Done()
			for i := 0; i < 15; i++ {
				cfg := []byte(fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))
				cd := string(digest.FromBytes(digest.SHA256, cfg))
				ld := string(digest.FromBytes(digest.SHA256, shared))
				man := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,"size":%d}]}`,
					MediaTypeOCIManifest, cd, len(cfg), ld, len(shared)))
				for attempt := 0; ; attempt++ {
					if attempt > 50 {
						t.Error("push never succeeded")
						return
					}
					// the large layer first: with no grace period, the GC
					// may take whatever was uploaded before it
					if _, err := e.reg.PutBlob(ctx, "s", ld, bytes.NewReader(shared)); err != nil {
						t.Error(err)
						return
					}
					if _, err := e.reg.PutBlob(ctx, "s", cd, bytes.NewReader(cfg)); err != nil {
						t.Error(err)
						return
					}
					res, err := e.reg.PutManifest(ctx, "s", fmt.Sprintf("w%d-%d", w, i), MediaTypeOCIManifest, man)
					if err != nil && asRegistryError(err).OCICode == CodeManifestBlobUnknown {
						retries.Add(1)
						continue // the GC took a blob between upload and put: re-push
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					done = append(done, pushed{res.Digest, cd, ld})
					mu.Unlock()
					break
				}
			}
		}()
	}
	pw.Wait()
	stop.Store(true)
	wg.Wait()
	if _, err := e.reg.GarbageCollect(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range done {
		for _, d := range []string{p.config, p.layer} {
			if !blobOnDisk(t, e.reg, d) {
				t.Fatalf("manifest %s lost blob %s", p.digest, d)
			}
			if _, err := e.reg.BlobExists(ctx, "s", d); err != nil {
				t.Fatalf("manifest %s: blob %s not linked: %v", p.digest, d, err)
			}
		}
	}
	t.Logf("%d pushes, %d GC runs, %d re-pushes after a collection", len(done), gcRuns.Load(), retries.Load())
}

func TestPurgeUploads(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	e := newTestEnv(t, func(c *Config) { c.Now = clock.Now; c.UploadTTL = time.Hour })
	createRepo(t, e.st, "a", false)
	r := e.do(t, "POST", "/v2/a/blobs/uploads/", nil, nil)
	loc := r.header.Get("Location")
	expect(t, e.do(t, "PATCH", loc, nil, []byte("abc")), 202, "")
	// idle 20 minutes: the file handle is released, the upload kept
	clock.Add(20 * time.Minute)
	st, _ := e.reg.GarbageCollect(context.Background())
	if st.UploadsPurged != 0 {
		t.Fatalf("purged too early: %+v", st)
	}
	r = e.do(t, "GET", loc, nil, nil)
	expect(t, r, 204, "")
	if r.header.Get("Range") != "0-2" {
		t.Fatalf("Range after reload %q", r.header.Get("Range"))
	}
	// the file's mtime is real time; move well past the TTL
	clock.Add(3 * time.Hour)
	st, _ = e.reg.GarbageCollect(context.Background())
	if st.UploadsPurged != 1 {
		t.Fatalf("expired upload not purged: %+v", st)
	}
	expect(t, e.do(t, "GET", loc, nil, nil), 404, CodeBlobUploadUnknown)
}
