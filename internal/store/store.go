package store

import (
	"context"
	"errors"
)

// Sentinel errors every backend returns (wrapped or bare; test with errors.Is).
var (
	// ErrNotFound: Get of a key that does not exist.
	ErrNotFound = errors.New("store: key not found")
	// ErrConflict: a Txn compare failed; nothing was written. Callers re-read and retry.
	ErrConflict = errors.New("store: revision conflict")
	// ErrCompacted: Watch from a revision older than the backend still keeps.
	// Callers re-list and watch from the list's revision.
	ErrCompacted = errors.New("store: revision compacted")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
)

// KV is one stored key. Revisions are the store-wide revision counter at the
// time of the write: CreateRevision when the key was created, ModRevision
// when it was last written. Both are > 0 for a stored key.
type KV struct {
	Key            string
	Value          []byte
	CreateRevision int64
	ModRevision    int64
}

// Compare is a precondition of a Txn on one key. ModRevision 0 means "the
// key must not exist"; any other value means "the key's ModRevision must
// equal this".
//
// With Prefix set, Key is a key prefix and the compare holds when no key
// under it has a ModRevision greater than ModRevision: nothing under the
// prefix was created or changed after that revision (deletes are not
// seen). It lets a writer act on a count or scan of a prefix read at a
// known revision, e.g. refuse to delete a cluster that still has tasks
// without racing a concurrent task creation. (etcd: a ModRevision "<"
// compare with a range end.)
type Compare struct {
	Key         string
	ModRevision int64
	Prefix      bool
}

// Op is one write of a Txn: a put of Value, or a delete when Delete is set.
// Deleting a missing key is not an error.
type Op struct {
	Key    string
	Value  []byte
	Delete bool
}

// ListOptions bound a List. Keys come in ascending byte order.
type ListOptions struct {
	// StartAfter skips keys <= StartAfter (used for pagination).
	StartAfter string
	// Limit caps the number returned; 0 means no limit.
	Limit int
}

// EventType says what a watch event is.
type EventType int

const (
	EventPut EventType = iota + 1
	EventDelete
	// EventProgress carries no key and no value: the watch has delivered
	// every change with a revision up to KV.ModRevision. A backend whose
	// revision can move with no change under the watched prefix (etcd,
	// whose counter is cluster-wide) sends it so that a consumer waiting
	// for a Revision() value gets there; consumers that do not track
	// revisions ignore it.
	EventProgress
)

// Event is one change seen by a Watch. For a delete, KV.Value is nil and
// KV.ModRevision is the revision of the delete.
//
// Last is set on the last event of its revision that the watch delivers:
// the events of one Txn under the watched prefix come together, and the
// one with Last ends them, so that a consumer (the state cache) can tell
// when a revision is complete without waiting for the next one.
type Event struct {
	Type EventType
	KV   KV
	Last bool
}

// Store is the revision-based key-value contract every backend implements.
// See doc.go for the rules and the key layout.
type Store interface {
	// Get returns the key or ErrNotFound.
	Get(ctx context.Context, key string) (KV, error)
	// List returns keys with the prefix, and the store revision the list
	// was read at (a consistent snapshot).
	List(ctx context.Context, prefix string, opts ListOptions) ([]KV, int64, error)
	// Txn applies ops atomically iff every compare holds, and returns the
	// new revision; on a failed compare it writes nothing and returns
	// ErrConflict. A Txn with no ops and passing compares returns the
	// current revision. A returned nil error means the write is durable.
	Txn(ctx context.Context, cmps []Compare, ops []Op) (int64, error)
	// Watch streams every change to keys with the prefix with a revision
	// > fromRev, in revision order, until ctx ends (then the channel
	// closes). fromRev 0 means "from now". If fromRev is older than the
	// backend keeps, Watch returns ErrCompacted.
	Watch(ctx context.Context, prefix string, fromRev int64) (<-chan Event, error)
	// Revision returns the current store revision.
	Revision(ctx context.Context) (int64, error)
	// Close releases the backend. Watches end.
	Close() error
}
