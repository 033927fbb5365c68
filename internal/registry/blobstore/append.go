package blobstore

import (
	"errors"
	"io"
	"sync/atomic"
)

// appendChunk is the unit of pipelining: the network read of one chunk
// overlaps the file write and hashing of the previous one.
const appendChunk = 1 << 20

// writebackEvery starts writeback of this much new data at a time, so that
// the fsync at Commit does not have to write the whole blob at once.
const writebackEvery = 8 << 20

// pipelinedAppend streams r to the upload with two goroutines: this one
// reads the body in 1 MiB chunks, a writer writes each chunk to the file
// and then hashes exactly the bytes the file accepted (so the hash state
// always matches the file) and starts their writeback. A push then costs
// about max(receive, write+hash) rather than their sum. On an error the
// bytes already written stay part of the upload and Size reflects them.
func (u *Upload) pipelinedAppend(r io.Reader) (int64, error) {
	// A body that fits in one chunk (config blobs, small layers, the tail
	// of a chunked upload) is written directly: the pipeline only pays off
	// from the second chunk on.
	first := make([]byte, appendChunk)
	n, err := io.ReadFull(r, first)
	if err != nil {
		w, werr := hashingWriter{u}.Write(first[:n])
		if werr != nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return int64(w), werr
		}
		return int64(w), err
	}
	free := make(chan []byte, 3)
	for range cap(free) - 1 {
		free <- make([]byte, appendChunk)
	}
	type chunk struct {
		buf []byte
		n   int
	}
	work := make(chan chunk, cap(free))
	var failed atomic.Bool
	var written int64
	done := make(chan error, 1)
	go func() {
		var werr error
		for c := range work {
			if werr == nil {
				n, err := hashingWriter{u}.Write(c.buf[:c.n])
				written += int64(n)
				if err == nil && n < c.n {
					err = io.ErrShortWrite
				}
				if err != nil {
					werr = err
					failed.Store(true)
				} else if u.size-u.flushed >= writebackEvery {
					u.startWriteback()
				}
			}
			free <- c.buf
		}
		done <- werr
	}()
	work <- chunk{first, n}
	var rerr error
	for !failed.Load() {
		buf := <-free
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			work <- chunk{buf, n}
		} else {
			free <- buf
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			rerr = err
			break
		}
	}
	close(work)
	werr := <-done
	if werr != nil {
		return written, werr
	}
	return written, rerr
}
