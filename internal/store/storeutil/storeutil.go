package storeutil

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
)

// MaxRetries bounds Retry's attempts under contention.
const MaxRetries = 64

// ErrContention is in the chain of the error Retry returns when every
// attempt lost its compare-and-swap.
var ErrContention = errors.New("too much contention on the state store; retry the request")

// Decode unmarshals a JSON record; a value that does not decode is a
// fault.Internal naming the key.
func Decode[T any](kv store.KV) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(kv.Value, v); err != nil {
		return nil, fault.Wrap(err, fault.Internal, "corrupt record %s", kv.Key)
	}
	return v, nil
}

// MustJSON marshals a record. Records are plain data types, so a failure
// is a programming error and panics.
func MustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("storeutil: encode %T: %v", v, err))
	}
	return b
}

// Err classifies an error of the store: nil and errors that already carry
// a fault kind or a context's cancellation pass through; anything else is
// a fault.Internal. The chain keeps the store's error (errors.Is still
// finds store.ErrConflict).
func Err(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := fault.As(err); ok {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fault.Wrap(err, fault.Internal, "state store")
}

// Retry runs fn until it returns an error that is not store.ErrConflict
// (or nil), at most MaxRetries times; fn re-reads what it decides on each
// time. It stops early when ctx ends. After MaxRetries lost attempts it
// returns a fault.Unavailable with ErrContention in its chain.
func Retry(ctx context.Context, fn func() error) error {
	for range MaxRetries {
		err := fn()
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return &fault.Error{Kind: fault.Unavailable, Err: ErrContention}
}

// CommitGen commits ops in one transaction guarded by a generation key:
// the transaction fails with store.ErrConflict if genKey's ModRevision is
// no longer genRev (some other writer committed to the same scope since it
// was read) or if one of cmps fails, and it rewrites genKey so that every
// concurrent writer's guard fails. No ops writes nothing. Other errors
// are classified by Err.
func CommitGen(ctx context.Context, s store.Store, genKey string, genRev int64, cmps []store.Compare, ops []store.Op) error {
	if len(ops) == 0 {
		return nil
	}
	all := append(slices.Clip(ops), store.Op{Key: genKey, Value: []byte("g")})
	guards := append([]store.Compare{{Key: genKey, ModRevision: genRev}}, cmps...)
	_, err := s.Txn(ctx, guards, all)
	if errors.Is(err, store.ErrConflict) {
		return err
	}
	return Err(err)
}
