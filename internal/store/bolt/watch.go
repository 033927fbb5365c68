package bolt

import (
	"context"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/internal/store"
)

const (
	// watchBuffer is the capacity of a watch channel.
	watchBuffer = 64
	// maxReadRevs and maxReadEvents bound one read of the log by a
	// watcher (the read batch held in memory).
	maxReadRevs   = 128
	maxReadEvents = 1024
)

// errBehind: a watcher's position was compacted away while it was slow.
var errBehind = errors.New("bolt store: watcher fell behind history")

// Watch implements store.Store. See doc.go for the delivery design.
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) (<-chan store.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if fromRev < 0 {
		return nil, fmt.Errorf("%w: negative watch revision %d", store.ErrInvalidArgument, fromRev)
	}
	if !s.enter() {
		return nil, store.ErrClosed
	}
	defer s.life.RUnlock()

	if fromRev == 0 {
		fromRev, _ = s.published()
	} else {
		var compact int64
		err := s.db.View(func(tx *bbolt.Tx) error {
			var err error
			compact, err = fromU64(tx.Bucket(bucketMeta).Get(metaCompact))
			return err
		})
		if err != nil {
			return nil, err
		}
		if fromRev < compact {
			return nil, fmt.Errorf("%w: watch from revision %d, history starts after %d", store.ErrCompacted, fromRev, compact)
		}
	}
	out := make(chan store.Event, watchBuffer)
	s.watchers.Add(1) // before Close can Wait: we hold s.life
	go s.watch(ctx, prefix, fromRev, out)
	return out, nil
}

// watch is a watcher goroutine: it delivers the log entries after last
// whenever the published revision is ahead, then sleeps until the next
// publish. It closes out when ctx ends, the store closes, or the log can no
// longer serve it.
func (s *Store) watch(ctx context.Context, prefix string, last int64, out chan<- store.Event) {
	defer s.watchers.Done()
	defer close(out)
	var batch []store.Event
	for {
		// Take the revision and its change channel together: a publish
		// after this point closes changed, so no wake-up is lost.
		cur, changed := s.published()
		for last < cur {
			var err error
			clear(batch)
			if batch, last, err = s.readLog(batch[:0], prefix, last, cur); err != nil {
				return
			}
			for _, ev := range batch {
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				case <-s.done:
					return
				}
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		case <-s.done:
			return
		}
	}
}

// readLog appends to dst the events with the prefix from the log entries
// after rev after, up to rev upto, reading at most one bounded batch, and
// returns the last revision read. The read transaction ends before any
// event is sent, so a slow consumer never pins bbolt pages or blocks the
// writer's remapping.
func (s *Store) readLog(dst []store.Event, prefix string, after, upto int64) ([]store.Event, int64, error) {
	if !s.enter() {
		return dst, after, store.ErrClosed
	}
	defer s.life.RUnlock()
	last := after
	err := s.db.View(func(tx *bbolt.Tx) error {
		compact, err := fromU64(tx.Bucket(bucketMeta).Get(metaCompact))
		if err != nil {
			return err
		}
		if after < compact {
			return errBehind
		}
		c := tx.Bucket(bucketLog).Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil; k, v = c.Next() {
			rev, err := fromU64(k)
			if err != nil {
				return err
			}
			if rev > upto {
				break
			}
			if rev != last+1 {
				return fmt.Errorf("%w: log jumps from revision %d to %d", errCorrupt, last, rev)
			}
			if dst, err = decodeEvents(dst, rev, v, prefix); err != nil {
				return err
			}
			last = rev
			if last-after >= maxReadRevs || len(dst) >= maxReadEvents {
				break
			}
		}
		if last == after {
			return fmt.Errorf("%w: log entry %d missing", errCorrupt, after+1)
		}
		return nil
	})
	return dst, last, err
}
