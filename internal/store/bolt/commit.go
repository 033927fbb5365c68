package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/internal/store"
)

// maxBatch caps how many Txns share one bbolt transaction.
const maxBatch = 256

// maxTxnBytes caps the encoded size of one Txn's writes; it keeps a log
// entry well below bbolt's maximum value size.
const maxTxnBytes = 1 << 30

// errNoChange rolls back a batch that changed nothing (no fsync needed).
var errNoChange = errors.New("bolt store: no change")

// txnReq is one Txn on its way through the committer. rev and err are set
// by the committer before it closes done.
type txnReq struct {
	cmps []store.Compare
	ops  []store.Op
	rev  int64
	err  error
	done chan struct{}
}

// Txn implements store.Store. See doc.go for group commit.
func (s *Store) Txn(ctx context.Context, cmps []store.Compare, ops []store.Op) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := store.ValidateTxn(cmps, ops); err != nil {
		return 0, err
	}
	size := 0
	for _, op := range ops {
		size += len(op.Key) + len(op.Value) + 32
	}
	if size > maxTxnBytes {
		return 0, fmt.Errorf("%w: txn of %d bytes exceeds %d", store.ErrInvalidArgument, size, maxTxnBytes)
	}
	if !s.enter() {
		return 0, store.ErrClosed
	}
	defer s.life.RUnlock()

	req := &txnReq{cmps: cmps, ops: ops, done: make(chan struct{})}
	select {
	case s.reqs <- req:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	// Once handed over, the request will be applied or rejected whatever
	// ctx does; wait for the outcome rather than report an ambiguous error.
	// The committer is alive: Close waits for this call to return.
	<-req.done
	return req.rev, req.err
}

// commitLoop is the single committer goroutine. Each round it takes every
// request already waiting (up to maxBatch) and commits them together.
func (s *Store) commitLoop() {
	defer close(s.committerDone)
	batch := make([]*txnReq, 0, maxBatch)
	for {
		select {
		case r := <-s.reqs:
			batch = append(batch[:0], r)
		case <-s.done:
			return
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		s.commit(batch)
		clear(batch) // drop references to answered requests
	}
}

// commit applies batch in one bbolt transaction, publishes the new
// revision once it is durable, and answers every request.
func (s *Store) commit(batch []*txnReq) {
	var newRev int64
	err := s.db.Update(func(tx *bbolt.Tx) error {
		rev, changed, err := s.apply(tx, batch)
		if err != nil {
			return err
		}
		if !changed {
			return errNoChange
		}
		newRev = rev
		return nil
	})
	switch {
	case err == nil:
		s.publish(newRev)
	case errors.Is(err, errNoChange):
		// Rolled back; the per-request outcomes (conflicts, no-ops) stand.
	case len(batch) > 1:
		// Unexpected storage error: isolate the requests so that only the
		// one(s) causing it fail.
		for i := range batch {
			s.commit(batch[i : i+1])
		}
		return
	default:
		batch[0].rev, batch[0].err = 0, fmt.Errorf("bolt store: txn: %w", err)
	}
	for _, r := range batch {
		close(r.done)
	}
}

// apply evaluates the requests in order inside tx. Each one that passes
// its compares and changes something gets the next revision and a log
// entry. It returns the resulting revision and whether anything changed.
// An error means tx must be rolled back.
func (s *Store) apply(tx *bbolt.Tx, batch []*txnReq) (int64, bool, error) {
	meta, kv, lg := tx.Bucket(bucketMeta), tx.Bucket(bucketKV), tx.Bucket(bucketLog)
	start, err := fromU64(meta.Get(metaRev))
	if err != nil {
		return 0, false, err
	}
	rev := start
	for _, r := range batch {
		r.rev, r.err = 0, nil
		if r.err, err = checkCompares(kv, r.cmps); err != nil {
			return 0, false, err
		} else if r.err != nil {
			continue
		}
		next := rev + 1
		var entry []byte
		for _, op := range r.ops {
			key := []byte(op.Key)
			old := kv.Get(key)
			if op.Delete {
				if old == nil {
					continue
				}
				if err := kv.Delete(key); err != nil {
					return 0, false, err
				}
				entry = appendEvent(entry, store.EventDelete, op.Key, 0, nil)
				continue
			}
			createRev := next
			if old != nil {
				if createRev, err = kvCreateRev(old); err != nil {
					return 0, false, err
				}
			}
			if err := kv.Put(key, encodeKV(createRev, next, op.Value)); err != nil {
				return 0, false, err
			}
			entry = appendEvent(entry, store.EventPut, op.Key, createRev, op.Value)
		}
		if entry == nil { // nothing changed: no revision
			r.rev = rev
			continue
		}
		if err := lg.Put(u64(next), entry); err != nil {
			return 0, false, err
		}
		rev = next
		r.rev = rev
	}
	if rev == start {
		return rev, false, nil
	}
	if err := meta.Put(metaRev, u64(rev)); err != nil {
		return 0, false, err
	}
	if err := s.trimHistory(tx, rev); err != nil {
		return 0, false, err
	}
	return rev, true, nil
}

// checkCompares returns a wrapped store.ErrConflict as conflict if a
// compare fails, and err if the stored data cannot be read.
func checkCompares(kv *bbolt.Bucket, cmps []store.Compare) (conflict, err error) {
	for _, c := range cmps {
		if c.Prefix {
			if conflict, err := checkPrefix(kv, c); conflict != nil || err != nil {
				return conflict, err
			}
			continue
		}
		var mod int64
		if v := kv.Get([]byte(c.Key)); v != nil {
			if len(v) < kvHeaderLen {
				return nil, fmt.Errorf("%w: kv value of %d bytes for %q", errCorrupt, len(v), c.Key)
			}
			mod = int64(binary.BigEndian.Uint64(v[8:16]))
		}
		if mod != c.ModRevision {
			return fmt.Errorf("%w: %q has mod revision %d, want %d", store.ErrConflict, c.Key, mod, c.ModRevision), nil
		}
	}
	return nil, nil
}

// checkPrefix evaluates a prefix compare: no key under c.Key may have a
// ModRevision above c.ModRevision.
func checkPrefix(kv *bbolt.Bucket, c store.Compare) (conflict, err error) {
	p := []byte(c.Key)
	cur := kv.Cursor()
	for k, v := cur.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = cur.Next() {
		if len(v) < kvHeaderLen {
			return nil, fmt.Errorf("%w: kv value of %d bytes for %q", errCorrupt, len(v), k)
		}
		if mod := int64(binary.BigEndian.Uint64(v[8:16])); mod > c.ModRevision {
			return fmt.Errorf("%w: %q under prefix %q has mod revision %d, after %d", store.ErrConflict, k, c.Key, mod, c.ModRevision), nil
		}
	}
	return nil, nil
}
