package ecsstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

// Task definitions use three kinds of keys (see internal/store's layout):
//
//	taskdefs/<family>/<rev10>     the full definition (JSON)
//	taskdef-index/<family>/<rev10> its status only, so lists decode little
//	taskdef-families/<family>     the last revision ever registered, so a
//	                              deleted revision's number is never reused
func tdKey(sc ecs.Scope, family string, rev int) string {
	return fmt.Sprintf("%s%s/%010d", prefix(sc, "taskdefs"), family, rev)
}
func tdIndexKey(sc ecs.Scope, family string, rev int) string {
	return fmt.Sprintf("%s%s/%010d", prefix(sc, "taskdef-index"), family, rev)
}
func familyKey(sc ecs.Scope, family string) string { return prefix(sc, "taskdef-families") + family }

type familyRecord struct {
	Last int `json:"last"`
}

// RegisterTaskDefinition stores td as the next revision of its family. fill
// is called with the revision number to finish the definition.
func (r *Repo) RegisterTaskDefinition(ctx context.Context, sc ecs.Scope, td *ecs.TaskDefinition, tags []ecs.Tag, fill func(rev int)) error {
	return storeutil.Err(storeutil.Retry(ctx, func() error {
		fk := familyKey(sc, td.Family)
		fam, rev, err := getJSON[familyRecord](ctx, r.s, fk)
		if errors.Is(err, store.ErrNotFound) {
			fam, err = &familyRecord{}, nil
		}
		if err != nil {
			return err
		}
		fam.Last++
		fill(fam.Last)
		ops := []store.Op{
			{Key: fk, Value: storeutil.MustJSON(fam)},
			{Key: tdKey(sc, td.Family, td.Revision), Value: encodeTaskDefinition(td)},
			{Key: tdIndexKey(sc, td.Family, td.Revision), Value: []byte(td.Status)},
		}
		ops = append(ops, tagOps(td.ARN, tags)...)
		_, err = r.s.Txn(ctx, []store.Compare{{Key: fk, ModRevision: rev}}, ops)
		return err
	}))
}

func tdNotFound() error {
	return fault.NotFoundf("taskDefinition", "Unable to describe task definition.")
}

// TaskDefinition resolves a reference; a reference without a revision
// means the latest ACTIVE revision. The definition is shared (decoded once
// per change of its record): do not modify it.
func (r *Repo) TaskDefinition(ctx context.Context, sc ecs.Scope, ref ecs.TaskDefinitionRef) (*ecs.TaskDefinition, error) {
	rev := ref.Revision
	if rev == 0 {
		entries, err := r.tdIndex(ctx, sc, ref.Family, true)
		if err != nil {
			return nil, err
		}
		for i := len(entries) - 1; i >= 0; i-- {
			if entries[i].status == ecs.TaskDefActive {
				rev = entries[i].rev
				break
			}
		}
		if rev == 0 {
			return nil, tdNotFound()
		}
	}
	kv, err := r.s.Get(ctx, tdKey(sc, ref.Family, rev))
	if errors.Is(err, store.ErrNotFound) {
		return nil, tdNotFound()
	}
	if err != nil {
		return nil, storeutil.Err(err)
	}
	td, err := r.taskDefs.shared(kv, decodeTaskDefinition)
	return td, storeutil.Err(err)
}

type tdEntry struct {
	family string
	rev    int
	status string
}

// tdIndex lists index entries. With exact, family is a full family name;
// otherwise it is a prefix of family names.
func (r *Repo) tdIndex(ctx context.Context, sc ecs.Scope, family string, exact bool) ([]tdEntry, error) {
	p := prefix(sc, "taskdef-index") + family
	if exact {
		p += "/"
	}
	kvs, _, err := r.s.List(ctx, p, store.ListOptions{})
	if err != nil {
		return nil, storeutil.Err(err)
	}
	out := make([]tdEntry, 0, len(kvs))
	base := len(prefix(sc, "taskdef-index"))
	for _, kv := range kvs {
		fam, revStr, _ := strings.Cut(kv.Key[base:], "/")
		rev, _ := strconv.Atoi(revStr)
		out = append(out, tdEntry{family: fam, rev: rev, status: string(kv.Value)})
	}
	return out, nil
}

// TaskDefinitionARNs lists definition ARNs with the given status ("" for
// any), optionally for one family, ordered by family and revision.
func (r *Repo) TaskDefinitionARNs(ctx context.Context, sc ecs.Scope, family, status string, desc bool) ([]string, error) {
	entries, err := r.tdIndex(ctx, sc, family, family != "")
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		if status == "" || e.status == status {
			out = append(out, sc.TaskDefinitionARN(e.family, e.rev))
		}
	}
	if desc {
		slices.Reverse(out)
	}
	return out, nil
}

// Families lists family names with the prefix. status ACTIVE selects
// families with at least one ACTIVE revision, INACTIVE those with none, ""
// every family.
func (r *Repo) Families(ctx context.Context, sc ecs.Scope, familyPrefix, status string) ([]string, error) {
	entries, err := r.tdIndex(ctx, sc, familyPrefix, false)
	if err != nil {
		return nil, err
	}
	active := map[string]bool{}
	var order []string
	for _, e := range entries {
		if _, seen := active[e.family]; !seen {
			order = append(order, e.family)
			active[e.family] = false
		}
		if e.status == ecs.TaskDefActive {
			active[e.family] = true
		}
	}
	out := []string{}
	for _, f := range order {
		if status == "" || (status == ecs.TaskDefActive) == active[f] {
			out = append(out, f)
		}
	}
	return out, nil
}

// UpdateTaskDefinition changes one revision with fn, atomically.
func (r *Repo) UpdateTaskDefinition(ctx context.Context, sc ecs.Scope, family string, rev int, fn func(*ecs.TaskDefinition) error) (*ecs.TaskDefinition, error) {
	var out *ecs.TaskDefinition
	err := storeutil.Retry(ctx, func() error {
		key := tdKey(sc, family, rev)
		td, mod, err := getDecoded(ctx, r.s, key, decodeTaskDefinition)
		if errors.Is(err, store.ErrNotFound) {
			return tdNotFound()
		}
		if err != nil {
			return err
		}
		if err := fn(td); err != nil {
			return err
		}
		_, err = r.s.Txn(ctx, []store.Compare{{Key: key, ModRevision: mod}}, []store.Op{
			{Key: key, Value: encodeTaskDefinition(td)},
			{Key: tdIndexKey(sc, family, rev), Value: []byte(td.Status)},
		})
		out = td
		return err
	})
	return out, storeutil.Err(err)
}

// DeregisterTaskDefinition marks a revision INACTIVE.
func (r *Repo) DeregisterTaskDefinition(ctx context.Context, sc ecs.Scope, family string, rev int, now time.Time) (*ecs.TaskDefinition, error) {
	return r.UpdateTaskDefinition(ctx, sc, family, rev, func(td *ecs.TaskDefinition) error {
		if td.Status == ecs.TaskDefDeleteProgress {
			return fault.New(fault.Invalid, "The specified task definition is being deleted.")
		}
		if td.Status == ecs.TaskDefActive {
			td.Status = ecs.TaskDefInactive
			td.DeregisteredAt = now
		}
		return nil
	})
}
