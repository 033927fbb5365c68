package ecsstore

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

// Repo reads and writes ECS objects.
type Repo struct {
	s         store.Store
	tasks     *decodedCache[ecs.Task]
	taskDefs  *decodedCache[ecs.TaskDefinition]
	instances instanceCache
}

// New returns a Repo over s.
func New(s store.Store) *Repo {
	return &Repo{
		s:        s,
		tasks:    &decodedCache[ecs.Task]{size: taskCacheSize},
		taskDefs: &decodedCache[ecs.TaskDefinition]{size: taskDefCacheSize},
	}
}

// Store returns the underlying store (for watches by controllers).
func (r *Repo) Store() store.Store { return r.s }

// prefix returns the key prefix of an ECS object kind in a scope.
func prefix(sc ecs.Scope, kind string) string {
	return "/ecs/" + sc.Account + "/" + sc.Region + "/" + kind + "/"
}

func getJSON[T any](ctx context.Context, s store.Store, key string) (*T, int64, error) {
	kv, err := s.Get(ctx, key)
	if err != nil {
		return nil, 0, err
	}
	v := new(T)
	if err := json.Unmarshal(kv.Value, v); err != nil {
		return nil, 0, fault.Wrap(err, fault.Internal, "corrupt record %s", key)
	}
	return v, kv.ModRevision, nil
}

// tagKey returns the key of a resource's tags.
func tagKey(arn string) string { return "/tags/" + arn }

// Tags returns the tags of a resource (empty if none).
func (r *Repo) Tags(ctx context.Context, arn string) ([]ecs.Tag, error) {
	tags, _, err := getDecoded(ctx, r.s, tagKey(arn), decodeTags)
	if errors.Is(err, store.ErrNotFound) {
		return []ecs.Tag{}, nil
	}
	if err != nil {
		return nil, storeutil.Err(err)
	}
	return *tags, nil
}

// UpdateTags changes a resource's tags with fn, atomically.
func (r *Repo) UpdateTags(ctx context.Context, arn string, fn func([]ecs.Tag) ([]ecs.Tag, error)) error {
	return storeutil.Err(storeutil.Retry(ctx, func() error {
		cur, rev, err := getDecoded(ctx, r.s, tagKey(arn), decodeTags)
		var tags []ecs.Tag
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		default:
			tags = *cur
		}
		next, err := fn(tags)
		if err != nil {
			return err
		}
		op := store.Op{Key: tagKey(arn), Value: encodeTags(next)}
		if len(next) == 0 {
			op = store.Op{Key: tagKey(arn), Delete: true}
		}
		_, err = r.s.Txn(ctx, []store.Compare{{Key: tagKey(arn), ModRevision: rev}}, []store.Op{op})
		return err
	}))
}

func tagOps(arn string, tags []ecs.Tag) []store.Op {
	if len(tags) == 0 {
		return nil
	}
	return []store.Op{{Key: tagKey(arn), Value: encodeTags(tags)}}
}

// lastSegment returns the part of a key after its last '/'.
func lastSegment(key string) string { return key[strings.LastIndexByte(key, '/')+1:] }
