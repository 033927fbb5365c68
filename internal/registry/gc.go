package registry

import (
	"context"
	"errors"
	"time"

	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/registry/blobstore"
	"github.com/berth-dev/berth/internal/registry/digest"
	"github.com/berth-dev/berth/internal/store"
)

// GCStats reports what a GarbageCollect run did.
type GCStats struct {
	// BlobsScanned counts blob files and blob records considered.
	BlobsScanned int
	// BlobsDeleted counts blobs removed (file and metadata).
	BlobsDeleted int
	// BytesFreed is the size of the deleted blob files.
	BytesFreed int64
	// LinksDeleted counts repository blob links removed with them.
	LinksDeleted int
	// Skipped counts candidates that changed during the run and were kept.
	Skipped int
	// UploadsPurged counts expired upload sessions removed.
	UploadsPurged int
}

type markedBlob struct {
	rec     *blobRecord // nil: no record at mark time
	rev     int64       // record's ModRevision at mark time (0: absent)
	file    *blobstore.Info
	links   []store.KV // repository links at mark time
	younger bool       // touched, linked or written within the grace period
}

// GarbageCollect deletes blobs that no manifest of any repository
// references and that nothing touched within the grace period, together
// with their repository links, and purges expired upload sessions. It runs
// online, concurrently with pushes and pulls; doc.go explains why that is
// safe. Only one run is active at a time.
func (r *Registry) GarbageCollect(ctx context.Context) (GCStats, error) {
	r.gcMu.Lock()
	defer r.gcMu.Unlock()
	var st GCStats
	now := r.now()
	cutoff := now.Add(-r.cfg.GCGracePeriod)
	st.UploadsPurged = r.purgeUploads(now)

	// Mark, step 1: blob records (before anything that references them).
	marks := map[digest.Digest]*markedBlob{}
	get := func(d digest.Digest) *markedBlob {
		m := marks[d]
		if m == nil {
			m = &markedBlob{}
			marks[d] = m
		}
		return m
	}
	prefix := r.keys.BlobsPrefix()
	err := r.listAll(ctx, prefix, func(kv store.KV) error {
		d, err := digest.Parse(kv.Key[len(prefix):])
		if err != nil {
			return nil
		}
		rec, err := decodeJSON[blobRecord](kv.Value)
		if err != nil {
			return nil
		}
		m := get(d)
		m.rec, m.rev = rec, kv.ModRevision
		if rec.TouchedAt.After(cutoff) {
			m.younger = true
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	// Mark, step 2: links (read after the records: a link created since
	// touched its record, so the sweep's compare catches it).
	err = r.listAll(ctx, r.keys.LayersRoot(), func(kv store.KV) error {
		_, rest, ok := splitRepoKey(r.keys.LayersRoot(), kv.Key)
		if !ok {
			return nil
		}
		d, err := digest.Parse(rest)
		if err != nil {
			return nil
		}
		m := get(d)
		m.links = append(m.links, kv)
		if l, err := decodeJSON[linkRecord](kv.Value); err == nil && l.CreatedAt.After(cutoff) {
			m.younger = true
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	// Mark, step 3: every blob any manifest references is live.
	live := map[digest.Digest]bool{}
	err = r.listAll(ctx, r.keys.ImagesRoot(), func(kv store.KV) error {
		rec, err := decodeImage(kv.Value)
		if err != nil {
			return fault.Wrap(err, fault.Internal, "image %s", kv.Key)
		}
		for _, b := range rec.Blobs {
			live[digest.Digest(b)] = true
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	// Mark, step 4: files on disk.
	err = r.blobs.Walk(func(info blobstore.Info) error {
		m := get(info.Digest)
		i := info
		m.file = &i
		if info.ModTime.After(cutoff) {
			m.younger = true
		}
		return nil
	})
	if err != nil {
		return st, fault.Wrap(err, fault.Internal, "walk blobs")
	}

	if r.gcBeforeSweep != nil {
		r.gcBeforeSweep()
	}
	// Sweep.
	for d, m := range marks {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		st.BlobsScanned++
		if live[d] || m.younger {
			continue
		}
		deleted, links, err := r.sweep(ctx, d, m)
		if err != nil {
			return st, err
		}
		if !deleted {
			st.Skipped++
			continue
		}
		st.BlobsDeleted++
		st.LinksDeleted += links
		if m.file != nil {
			st.BytesFreed += m.file.Size
		}
	}
	r.log.Info("registry: garbage collection", "scanned", st.BlobsScanned, "deleted", st.BlobsDeleted,
		"bytesFreed", st.BytesFreed, "skipped", st.Skipped, "uploadsPurged", st.UploadsPurged)
	return st, nil
}

// sweep deletes one marked blob under its exclusive lock, if nothing
// changed since the mark.
func (r *Registry) sweep(ctx context.Context, d digest.Digest, m *markedBlob) (bool, int, error) {
	unlock := r.blobs.Exclusive(d)
	defer unlock()
	// One Txn removes the record and the links, comparing the revisions
	// seen at mark time: any link, upload or manifest put that made the
	// blob reachable since then rewrote the record (or a link), so the
	// Txn fails and the blob is kept. A record absent at mark time must
	// still be absent (compare with revision 0).
	cmps := []store.Compare{{Key: r.keys.Blob(string(d)), ModRevision: m.rev}}
	ops := []store.Op{{Key: r.keys.Blob(string(d)), Delete: true}}
	for _, l := range m.links {
		cmps = append(cmps, store.Compare{Key: l.Key, ModRevision: l.ModRevision})
		ops = append(ops, store.Op{Key: l.Key, Delete: true})
	}
	_, err := r.st.Txn(ctx, cmps, ops)
	if errors.Is(err, store.ErrConflict) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, storeErr(err, "gc blob %s", d)
	}
	// The metadata is gone and the exclusive lock keeps every writer that
	// would check for the file out until it is gone too.
	if m.file != nil {
		if err := r.blobs.Delete(d); err != nil {
			return false, 0, fault.Wrap(err, fault.Internal, "gc blob %s", d)
		}
	}
	r.log.Debug("registry: gc deleted blob", "digest", d, "links", len(m.links))
	return true, len(m.links), nil
}

// Run performs GarbageCollect every interval until ctx ends.
func (r *Registry) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := r.GarbageCollect(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("registry: garbage collection failed", "err", err)
			}
		}
	}
}
