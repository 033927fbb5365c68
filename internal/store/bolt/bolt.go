package bolt

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/berth-dev/berth/internal/store"
)

// DefaultHistoryLimit is the number of revisions of watch history kept
// when Options.HistoryLimit is 0.
const DefaultHistoryLimit = 10000

// DefaultLockTimeout is how long Open waits for the file lock when
// Options.LockTimeout is 0.
const DefaultLockTimeout = 5 * time.Second

// Options configure Open. The zero value is ready to use.
type Options struct {
	// HistoryLimit is how many of the most recent revisions stay in the
	// watch log (DefaultHistoryLimit if 0). Watch from an older revision
	// returns store.ErrCompacted.
	HistoryLimit int
	// LockTimeout bounds the wait for the file lock, held while another
	// process has the file open (DefaultLockTimeout if 0).
	LockTimeout time.Duration
}

// Store is a store.Store in a bbolt file. It is safe for concurrent use.
type Store struct {
	db           *bbolt.DB
	historyLimit int64

	// life guards closed. Every operation holds it shared while it uses
	// db or the committer; Close takes it exclusively, so it waits for
	// them and later operations see closed.
	life   sync.RWMutex
	closed bool
	done   chan struct{} // closed by Close: committer and watchers exit

	reqs          chan *txnReq  // to the committer
	committerDone chan struct{} // closed when the committer exits
	watchers      sync.WaitGroup

	// mu guards the published revision: the newest one whose commit,
	// including its fsync, has completed. changed is closed and replaced
	// each time it advances.
	mu      sync.Mutex
	rev     int64
	changed chan struct{}
}

var _ store.Store = (*Store)(nil)

// Open opens or creates the store file at path.
func Open(path string, opts Options) (*Store, error) {
	if opts.HistoryLimit < 0 {
		return nil, fmt.Errorf("bolt store: negative HistoryLimit %d", opts.HistoryLimit)
	}
	if opts.HistoryLimit == 0 {
		opts.HistoryLimit = DefaultHistoryLimit
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout: opts.LockTimeout,
		// As etcd does: the freelist is rebuilt by a scan at open instead
		// of being written on every commit. Durability is unaffected.
		NoFreelistSync: true,
		FreelistType:   bbolt.FreelistMapType,
	})
	if err != nil {
		return nil, fmt.Errorf("bolt store: open %s: %w", path, err)
	}
	s := &Store{
		db:            db,
		historyLimit:  int64(opts.HistoryLimit),
		done:          make(chan struct{}),
		reqs:          make(chan *txnReq, maxBatch),
		committerDone: make(chan struct{}),
		changed:       make(chan struct{}),
	}
	if err := db.Update(s.initTx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt store: open %s: %w", path, err)
	}
	go s.commitLoop()
	return s, nil
}

// initTx creates the buckets of a new file, checks the format of an
// existing one, applies a lowered HistoryLimit, and loads the revision.
func (s *Store) initTx(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketMeta, bucketKV, bucketLog} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	if v := meta.Get(metaVersion); v == nil {
		// A new store starts at revision 1 (see package store); there is
		// no history before it.
		for _, k := range [][]byte{metaRev, metaCompact} {
			if err := meta.Put(k, u64(1)); err != nil {
				return err
			}
		}
		if err := meta.Put(metaVersion, u64(formatVersion)); err != nil {
			return err
		}
	} else if ver, err := fromU64(v); err != nil {
		return err
	} else if ver != formatVersion {
		return fmt.Errorf("unsupported format version %d (want %d)", ver, formatVersion)
	}
	rev, err := fromU64(meta.Get(metaRev))
	if err != nil {
		return err
	}
	if err := s.trimHistory(tx, rev); err != nil {
		return err
	}
	s.rev = rev
	return nil
}

// enter registers an operation against Close. On true the caller must
// s.life.RUnlock when done.
func (s *Store) enter() bool {
	s.life.RLock()
	if s.closed {
		s.life.RUnlock()
		return false
	}
	return true
}

// published returns the published revision and the channel that is closed
// when it next advances.
func (s *Store) published() (int64, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rev, s.changed
}

// publish makes rev visible to Revision and watchers.
func (s *Store) publish(rev int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rev > s.rev {
		s.rev = rev
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) (store.KV, error) {
	if err := ctx.Err(); err != nil {
		return store.KV{}, err
	}
	if !s.enter() {
		return store.KV{}, store.ErrClosed
	}
	defer s.life.RUnlock()
	var (
		kv    store.KV
		found bool
	)
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketKV).Get([]byte(key))
		if v == nil {
			return nil
		}
		found = true
		var err error
		kv, err = decodeKV(key, v)
		return err
	})
	switch {
	case err != nil:
		return store.KV{}, err
	case !found:
		return store.KV{}, fmt.Errorf("%w: %q", store.ErrNotFound, key)
	}
	return kv, nil
}

// List implements store.Store.
func (s *Store) List(ctx context.Context, prefix string, opts store.ListOptions) ([]store.KV, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	if opts.Limit < 0 {
		return nil, 0, fmt.Errorf("%w: negative limit %d", store.ErrInvalidArgument, opts.Limit)
	}
	if !s.enter() {
		return nil, 0, store.ErrClosed
	}
	defer s.life.RUnlock()
	var (
		kvs []store.KV
		rev int64
	)
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		if rev, err = fromU64(tx.Bucket(bucketMeta).Get(metaRev)); err != nil {
			return err
		}
		start := []byte(prefix)
		skip := []byte(nil)
		if opts.StartAfter >= prefix {
			start, skip = []byte(opts.StartAfter), []byte(opts.StartAfter)
		}
		c := tx.Bucket(bucketKV).Cursor()
		for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, v = c.Next() {
			if skip != nil && bytes.Equal(k, skip) {
				continue
			}
			if opts.Limit > 0 && len(kvs) == opts.Limit {
				break
			}
			kv, err := decodeKV(string(k), v)
			if err != nil {
				return err
			}
			kvs = append(kvs, kv)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return kvs, rev, nil
}

// Revision implements store.Store. It is the newest revision whose Txn has
// been acknowledged (is durable).
func (s *Store) Revision(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if !s.enter() {
		return 0, store.ErrClosed
	}
	defer s.life.RUnlock()
	rev, _ := s.published()
	return rev, nil
}

// Compact discards the watch history up to and including rev (clamped to
// the current revision), like the automatic trimming to HistoryLimit does.
// Afterwards Watch from a revision below rev returns store.ErrCompacted.
// Compacting to a revision at or below an earlier compaction is a no-op.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !s.enter() {
		return store.ErrClosed
	}
	defer s.life.RUnlock()
	return s.db.Update(func(tx *bbolt.Tx) error {
		cur, err := fromU64(tx.Bucket(bucketMeta).Get(metaRev))
		if err != nil {
			return err
		}
		return compactTo(tx, min(rev, cur))
	})
}

// trimHistory keeps the log to the last historyLimit revisions before rev.
func (s *Store) trimHistory(tx *bbolt.Tx, rev int64) error {
	if rev <= s.historyLimit {
		return nil
	}
	return compactTo(tx, rev-s.historyLimit)
}

// compactTo deletes the log entries at or below rev and records the cut.
func compactTo(tx *bbolt.Tx, rev int64) error {
	meta := tx.Bucket(bucketMeta)
	compact, err := fromU64(meta.Get(metaCompact))
	if err != nil || rev <= compact {
		return err
	}
	// Delete from the front: re-seeking after each delete sidesteps bbolt's
	// cursor-skips-after-Delete behaviour.
	c := tx.Bucket(bucketLog).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.First() {
		r, err := fromU64(k)
		if err != nil {
			return err
		}
		if r > rev {
			break
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return meta.Put(metaCompact, u64(rev))
}

// Close implements store.Store. It waits for in-flight operations, ends all
// watches and closes the file. A second Close returns store.ErrClosed.
func (s *Store) Close() error {
	s.life.Lock()
	if s.closed {
		s.life.Unlock()
		return store.ErrClosed
	}
	s.closed = true
	close(s.done)
	s.life.Unlock()

	<-s.committerDone
	s.watchers.Wait()
	return s.db.Close()
}
