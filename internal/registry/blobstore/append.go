package blobstore

import (
	"errors"
	"io"
	"os"
	"sync"
)

// appendChunk is the unit of pipelining: the body is read and written to
// the file a chunk at a time, and each written chunk is hashed by another
// goroutine while the next one is read and written. (Reads of 2 MiB and
// more made a loopback push several times more expensive in CPU.)
const appendChunk = 1 << 20

// maxHashLag bounds the chunks read but not yet hashed, per upload, and so
// the chunk buffers one upload holds.
const maxHashLag = 4

// writebackEvery starts writeback of this much new data at a time (see
// startWriteback), so that dirty pages do not pile up until Commit.
const writebackEvery = 8 << 20

// syncEvery starts a background fsync each time this much new data has
// been written, one at a time (see maybeSync). An fsync takes about as long
// as the device needs to persist what was written since the previous one
// (on the development VM a single fsync at the end of a 100 MB upload took
// ~50 ms, a third of the push); with background fsyncs along the way,
// Commit's own fsync only has the last few MiB left.
const syncEvery = 16 << 20

// backgroundSync is the background fsync (a variable for tests).
var backgroundSync = (*os.File).Sync

var chunkPool = sync.Pool{New: func() any { b := make([]byte, appendChunk); return &b }}

// hashJob is one written chunk on its way to the hasher.
type hashJob struct {
	buf *[]byte
	n   int
}

// pipelinedAppend streams r to the upload. This goroutine reads the body a
// chunk at a time and writes each chunk to the file; a hasher goroutine
// then hashes exactly the bytes the file accepted, in order, so that the
// hash state matches the file content once the hasher is done. The hasher
// may still be running when Append returns (a chunk's HTTP response need
// not wait for it, and the hashing overlaps the client's next request);
// waitHash, which Digest, Commit, Close and Cancel call first, waits for
// it. The hashers of successive Appends are chained, and the chunks not
// yet hashed are bounded by maxHashLag (u.lag holds a token for each).
//
// On an error the bytes already written stay part of the upload, and Size
// and (after waitHash) the hash state reflect exactly them.
func (u *Upload) pipelinedAppend(r io.Reader) (int64, error) {
	u.lag <- struct{}{}
	buf := chunkPool.Get().(*[]byte)
	n, rerr := io.ReadFull(r, *buf)
	if rerr != nil && u.hashDone != nil {
		select {
		case <-u.hashDone:
			u.hashDone = nil
		default:
		}
	}
	if rerr != nil && u.hashDone == nil {
		// A body that fits in one chunk (config blobs, small layers, the
		// tail of a chunked upload), with no hashing pending: no goroutine.
		w, werr := u.write((*buf)[:n])
		for _, h := range u.hashes {
			h.Write((*buf)[:w])
		}
		chunkPool.Put(buf)
		<-u.lag
		if werr != nil {
			return int64(w), werr
		}
		return int64(w), endOfBody(rerr)
	}
	work := make(chan hashJob, maxHashLag) // never full: see u.lag
	prev, done := u.hashDone, make(chan struct{})
	u.hashDone = done
	go u.hasher(prev, work, done)
	defer close(work)
	var written int64
	for {
		w, werr := u.write((*buf)[:n])
		written += int64(w)
		if w > 0 {
			work <- hashJob{buf, w}
		} else {
			chunkPool.Put(buf)
			<-u.lag
		}
		if werr != nil {
			return written, werr
		}
		if rerr != nil {
			return written, endOfBody(rerr)
		}
		u.lag <- struct{}{}
		buf = chunkPool.Get().(*[]byte)
		n, rerr = io.ReadFull(r, *buf)
	}
}

// endOfBody maps the end of the body to success.
func endOfBody(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}

// hasher hashes the chunks of one Append, once the previous Append's
// hasher (prev) has finished, and then closes done.
func (u *Upload) hasher(prev <-chan struct{}, work <-chan hashJob, done chan<- struct{}) {
	defer close(done)
	if prev != nil {
		<-prev
	}
	for j := range work {
		for _, h := range u.hashes {
			h.Write((*j.buf)[:j.n])
		}
		chunkPool.Put(j.buf)
		<-u.lag
	}
}

// waitHash waits until every byte written so far has been hashed.
func (u *Upload) waitHash() {
	if u.hashDone != nil {
		<-u.hashDone
		u.hashDone = nil
	}
}

// write writes p at the end of the file, counts what the file accepted,
// and starts writeback and background fsyncs as the upload grows.
func (u *Upload) write(p []byte) (int, error) {
	n, err := u.f.Write(p)
	u.size += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err == nil {
		if u.size-u.flushed >= writebackEvery {
			u.startWriteback()
		}
		if u.size-u.synced >= syncEvery {
			u.maybeSync()
		}
	}
	return n, err
}

// bgSync is a background fsync.
type bgSync struct {
	done chan struct{}
	err  error
}

// maybeSync starts a background fsync unless one is still running. Its
// error is kept for Commit: the kernel reports a failed writeback to one
// fsync only, so a failure seen here must fail the upload (see waitSync).
// The final fsync in Commit is what makes the blob durable; these only
// spread the device's work over the upload.
func (u *Upload) maybeSync() {
	if u.sync != nil {
		select {
		case <-u.sync.done:
			u.reapSync()
		default:
			return
		}
	}
	b := &bgSync{done: make(chan struct{})}
	u.sync = b
	u.synced = u.size
	f := u.f
	go func() {
		b.err = backgroundSync(f)
		close(b.done)
	}()
}

func (u *Upload) reapSync() {
	if u.sync.err != nil && u.syncErr == nil {
		u.syncErr = u.sync.err
	}
	u.sync = nil
}

// waitSync waits for the background fsync in flight, if any, and returns
// the first error any background fsync reported.
func (u *Upload) waitSync() error {
	if u.sync != nil {
		<-u.sync.done
		u.reapSync()
	}
	return u.syncErr
}
