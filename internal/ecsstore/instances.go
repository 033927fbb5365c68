package ecsstore

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

// Container instances use these keys:
//
//	instances/<cluster>/<id>        a registered (EC2 or external) container
//	                                instance, as ecs.ContainerInstance JSON:
//	                                what it is (registered resources,
//	                                attributes, status, agent). Its
//	                                remainingResources and version are those
//	                                of the last time the record was written.
//	instance-state/<cluster>/<id>   what the instance's tasks hold
//	                                (stateRecord, in a compact binary form,
//	                                see statecodec.go: remainingResources,
//	                                version, and the groups of the tasks
//	                                placed on it and not yet stopped,
//	                                {"family:web": 2}); its remainingResources
//	                                and version are the instance's. Placing
//	                                and stopping tasks write only this record
//	                                (some 60 bytes; the instance record
//	                                with ECS's default attributes is about
//	                                5 KB) in the transactions that write the
//	                                tasks, so placement never reads the tasks
//	                                nor rewrites the instance.
//	managed-instances/<cluster>     the hidden instance of berth's managed
//	                                (Fargate) capacity in that cluster, one
//	                                record, resources included; it is not
//	                                listed and not counted as registered.
//
// Every write of a registered instance goes through instanceRecords, which
// compares the records it read and writes the state record (and the
// instance record when the instance itself changed). A deregistered
// instance's keys are deleted.
func instanceKey(sc ecs.Scope, cluster, id string) string {
	return prefix(sc, "instances") + cluster + "/" + id
}
func stateKey(sc ecs.Scope, cluster, id string) string {
	return prefix(sc, kindState) + cluster + "/" + id
}
func managedKey(sc ecs.Scope, cluster string) string {
	return prefix(sc, "managed-instances") + cluster
}

// kindState is the kind of the instance-state records.
const kindState = "instance-state"

// StateRecord is the instance-state record: what the tasks placed on an
// instance hold (its remaining resources and version, and the groups of
// its tasks that are not stopped). Its JSON tags only serve tests; it is
// stored in the binary form of statecodec.go.
type StateRecord struct {
	Remaining []ecs.Resource `json:"remainingResources"`
	Version   int64          `json:"version"`
	Groups    GroupCounts    `json:"groups,omitempty"`
}

// GroupCounts counts the tasks of each group on an instance.
type GroupCounts map[string]int

// instanceRecords are the records of one registered instance as read.
type instanceRecords struct {
	sc          ecs.Scope
	cluster, id string

	base    *ecs.ContainerInstance // decoded for the caller: may be modified
	baseRev int64
	st      *StateRecord // nil if there is none (yet)
	stRev   int64
}

// readInstance reads a registered instance's records; a missing instance
// record is store.ErrNotFound.
func (r *Repo) readInstance(ctx context.Context, sc ecs.Scope, cluster, id string) (*instanceRecords, error) {
	rec := &instanceRecords{sc: sc, cluster: cluster, id: id}
	var err error
	if rec.base, rec.baseRev, err = getDecoded(ctx, r.s, instanceKey(sc, cluster, id), decodeInstance); err != nil {
		return nil, err
	}
	rec.st, rec.stRev, err = getState(ctx, r.s, stateKey(sc, cluster, id))
	switch {
	case errors.Is(err, store.ErrNotFound):
		rec.st = nil
	case err != nil:
		return nil, err
	}
	return rec, nil
}

// current returns the instance as its records describe it and the groups
// of its tasks. The instance is rec.base, updated: the caller may modify it.
func (rec *instanceRecords) current() (*ecs.ContainerInstance, GroupCounts) {
	if rec.st == nil {
		return rec.base, nil
	}
	rec.base.RemainingResources = rec.st.Remaining
	rec.base.Version = rec.st.Version
	return rec.base, rec.st.Groups
}

// compose returns the instance that an instance record and a state record
// (nil: none) describe. The result shares base's fields other than the
// remaining resources and version; neither is modified.
func compose(base *ecs.ContainerInstance, st *StateRecord) *ecs.ContainerInstance {
	if st == nil {
		return base
	}
	c := *base
	c.RemainingResources = st.Remaining
	c.Version = st.Version
	return &c
}

// save returns the compares and ops that make ci (with groups) the
// instance's new state over the records rec read: the state record, and
// the instance record too if withBase (the instance itself changed). The
// compares cover every record read, so a concurrent change of the instance
// fails the Txn. ci and groups must not be modified afterwards.
func (rec *instanceRecords) save(ci *ecs.ContainerInstance, groups GroupCounts, withBase bool) ([]store.Compare, []store.Op) {
	if len(groups) == 0 {
		groups = nil
	}
	cmps, ops := rec.appendSaveState(nil, nil, &StateRecord{Remaining: ci.RemainingResources, Version: ci.Version, Groups: groups})
	if withBase {
		ops = append(ops, store.Op{Key: instanceKey(rec.sc, rec.cluster, rec.id), Value: encodeInstance(ci)})
	}
	return cmps, ops
}

// appendSaveState appends the compares of the instance's two records as
// rec read them and the write of its new state record.
func (rec *instanceRecords) appendSaveState(cmps []store.Compare, ops []store.Op, st *StateRecord) ([]store.Compare, []store.Op) {
	bk, sk := instanceKey(rec.sc, rec.cluster, rec.id), stateKey(rec.sc, rec.cluster, rec.id)
	cmps = append(cmps, store.Compare{Key: bk, ModRevision: rec.baseRev}, store.Compare{Key: sk, ModRevision: rec.stRev})
	ops = append(ops, store.Op{Key: sk, Value: encodeState(st)})
	return cmps, ops
}

// KeyInfo splits an ECS key into its scope, kind, cluster and object ID
// (for managed instances the ID is ""). ok is false for keys outside the
// /ecs/ tree.
func KeyInfo(key string) (sc ecs.Scope, kind, cluster, id string, ok bool) {
	rest, found := strings.CutPrefix(key, "/ecs/")
	if !found {
		return sc, "", "", "", false
	}
	// As strings.SplitN(rest, "/", 5), without allocating: every watch
	// event goes through here.
	account, rest, ok1 := strings.Cut(rest, "/")
	region, rest, ok2 := strings.Cut(rest, "/")
	kind, rest, ok3 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || !ok3 {
		return sc, "", "", "", false
	}
	cluster, id, _ = strings.Cut(rest, "/")
	return ecs.Scope{Account: account, Region: region}, kind, cluster, id, true
}

func instanceNotFound(id string) error {
	return fault.NotFoundf("containerInstance", "The referenced container instance %s was not found.", id)
}

// instanceCache remembers decoded instance records by key and exact value,
// so that listing every instance of a cluster decodes only the records
// that changed since it last looked. Entries are immutable: callers that
// mutate an instance decode their own copy.
type instanceCache struct {
	mu sync.Mutex
	m  map[string]cachedInstance
}

type cachedInstance struct {
	raw []byte
	ci  *ecs.ContainerInstance
}

const maxCachedInstances = 200_000

func (r *Repo) decodeInstanceShared(kv store.KV) (*ecs.ContainerInstance, error) {
	c := &r.instances
	c.mu.Lock()
	e, ok := c.m[kv.Key]
	c.mu.Unlock()
	if ok && bytes.Equal(e.raw, kv.Value) {
		return e.ci, nil
	}
	ci, err := decodeInstance(kv)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedInstances {
		c.m = map[string]cachedInstance{}
	}
	c.m[kv.Key] = cachedInstance{raw: kv.Value, ci: ci}
	c.mu.Unlock()
	return ci, nil
}

// RegisterInstance stores a new container instance in an ACTIVE cluster.
func (r *Repo) RegisterInstance(ctx context.Context, sc ecs.Scope, ci *ecs.ContainerInstance, tags []ecs.Tag) error {
	ref, err := ecs.ParseInstanceRef(ci.ARN, "")
	if err != nil {
		return err
	}
	return storeutil.Err(storeutil.Retry(ctx, func() error {
		ck, _, crev, err := r.activeClusterRev(ctx, sc, ref.Cluster)
		if err != nil {
			return err
		}
		// A new instance: none of its records exists.
		rec := &instanceRecords{sc: sc, cluster: ref.Cluster, id: ref.ID}
		cmps, ops := rec.save(ci, nil, true)
		cmps = append(cmps, store.Compare{Key: ck, ModRevision: crev})
		ops = append(ops, tagOps(ci.ARN, tags)...)
		_, err = r.s.Txn(ctx, cmps, ops)
		return err
	}))
}

// located is an instance (registered or managed) as read for a change.
type located struct {
	managed bool
	rec     *instanceRecords // registered
	key     string           // managed: its key and revision
	rev     int64
	ci      *ecs.ContainerInstance // current; the caller may modify it
	groups  GroupCounts            // registered: the groups of its tasks
}

// locate reads an instance (registered or managed).
func (r *Repo) locate(ctx context.Context, sc ecs.Scope, ref ecs.InstanceRef) (*located, error) {
	rec, err := r.readInstance(ctx, sc, ref.Cluster, ref.ID)
	if err == nil {
		ci, groups := rec.current()
		return &located{rec: rec, ci: ci, groups: groups}, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	mk := managedKey(sc, ref.Cluster)
	ci, rev, err := getDecoded(ctx, r.s, mk, decodeInstance)
	if err == nil && ci.ID == ref.ID {
		return &located{managed: true, key: mk, rev: rev, ci: ci}, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return nil, instanceNotFound(ref.ID)
}

// save returns the compares and ops that store the located instance as
// l.ci (with groups, for a registered instance).
func (l *located) save(groups GroupCounts, withBase bool) ([]store.Compare, []store.Op) {
	if l.managed {
		return []store.Compare{{Key: l.key, ModRevision: l.rev}}, []store.Op{{Key: l.key, Value: encodeInstance(l.ci)}}
	}
	return l.rec.save(l.ci, groups, withBase)
}

// Instance returns a container instance (registered or managed) or a
// NotFound fault.
func (r *Repo) Instance(ctx context.Context, sc ecs.Scope, ref ecs.InstanceRef) (*ecs.ContainerInstance, error) {
	l, err := r.locate(ctx, sc, ref)
	if err != nil {
		return nil, storeutil.Err(err)
	}
	return l.ci, nil
}

// IsManaged reports whether the instance is berth's managed capacity.
func (r *Repo) IsManaged(ctx context.Context, sc ecs.Scope, ref ecs.InstanceRef) (bool, error) {
	l, err := r.locate(ctx, sc, ref)
	if err != nil {
		return false, storeutil.Err(err)
	}
	return l.managed, nil
}

// Instances returns the registered container instances of a cluster (not
// the managed one), ordered by ID. The instances are shared: do not modify
// them.
func (r *Repo) Instances(ctx context.Context, sc ecs.Scope, cluster string) ([]*ecs.ContainerInstance, error) {
	kvs, _, err := r.s.List(ctx, prefix(sc, "instances")+cluster+"/", store.ListOptions{})
	if err != nil {
		return nil, storeutil.Err(err)
	}
	states, err := r.states(ctx, sc, cluster)
	if err != nil {
		return nil, err
	}
	out := make([]*ecs.ContainerInstance, 0, len(kvs))
	for _, kv := range kvs {
		ci, err := r.decodeInstanceShared(kv)
		if err != nil {
			return nil, err
		}
		out = append(out, compose(ci, states[ci.ID]))
	}
	return out, nil
}

// states reads the state records of a cluster's instances, by instance ID.
func (r *Repo) states(ctx context.Context, sc ecs.Scope, cluster string) (map[string]*StateRecord, error) {
	p := prefix(sc, kindState) + cluster + "/"
	kvs, _, err := r.s.List(ctx, p, store.ListOptions{})
	if err != nil {
		return nil, storeutil.Err(err)
	}
	states := make(map[string]*StateRecord, len(kvs))
	for _, kv := range kvs {
		st, err := decodeState(kv)
		if err != nil {
			return nil, err
		}
		states[kv.Key[len(p):]] = st
	}
	return states, nil
}

// ManagedInstance returns a cluster's managed instance, or a NotFound fault
// if the cluster has never run a task on managed capacity.
func (r *Repo) ManagedInstance(ctx context.Context, sc ecs.Scope, cluster string) (*ecs.ContainerInstance, error) {
	ci, _, err := getDecoded(ctx, r.s, managedKey(sc, cluster), decodeInstance)
	if errors.Is(err, store.ErrNotFound) {
		return nil, instanceNotFound("managed/" + cluster)
	}
	return ci, storeutil.Err(err)
}

// UpdateInstance changes an instance (registered or managed) with fn,
// atomically. fn may return ErrNoChange to write nothing.
func (r *Repo) UpdateInstance(ctx context.Context, sc ecs.Scope, ref ecs.InstanceRef, fn func(*ecs.ContainerInstance) error) (*ecs.ContainerInstance, error) {
	var out *ecs.ContainerInstance
	err := storeutil.Retry(ctx, func() error {
		l, err := r.locate(ctx, sc, ref)
		if err != nil {
			return err
		}
		if err := fn(l.ci); err != nil {
			if errors.Is(err, ErrNoChange) {
				out = l.ci
				return nil
			}
			return err
		}
		cmps, ops := l.save(maps.Clone(l.groups), true)
		if _, err := r.s.Txn(ctx, cmps, ops); err != nil {
			return err
		}
		out = l.ci
		return nil
	})
	return out, storeutil.Err(err)
}

// ErrNoChange, returned by an update function, makes the update a no-op.
var ErrNoChange = errors.New("ecsstore: no change")

// DeregisterInstance removes a registered instance. check sees the
// instance and may refuse. The returned instance is INACTIVE.
func (r *Repo) DeregisterInstance(ctx context.Context, sc ecs.Scope, ref ecs.InstanceRef, check func(*ecs.ContainerInstance) error) (*ecs.ContainerInstance, error) {
	var out *ecs.ContainerInstance
	err := storeutil.Retry(ctx, func() error {
		l, err := r.locate(ctx, sc, ref)
		if err != nil {
			return err
		}
		if l.managed {
			return instanceNotFound(ref.ID)
		}
		ci := l.ci
		if err := check(ci); err != nil {
			return err
		}
		// Compare what was read, so that a task placed meanwhile makes
		// the caller's check run again.
		cmps, _ := l.rec.save(ci, nil, false)
		ops := []store.Op{
			{Key: instanceKey(sc, ref.Cluster, ref.ID), Delete: true},
			{Key: stateKey(sc, ref.Cluster, ref.ID), Delete: true},
			{Key: tagKey(ci.ARN), Delete: true},
		}
		if _, err := r.s.Txn(ctx, cmps, ops); err != nil {
			return err
		}
		ci.Status = ecs.InstanceInactive
		ci.AgentConnected = false
		out = ci
		return nil
	})
	return out, storeutil.Err(err)
}

// InstanceGroups returns, per registered instance ID of the cluster, the
// groups of its tasks that are not stopped (one entry per task).
func (r *Repo) InstanceGroups(ctx context.Context, sc ecs.Scope, cluster string) (map[string][]string, error) {
	states, err := r.states(ctx, sc, cluster)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(states))
	for id, st := range states {
		if len(st.Groups) > 0 {
			out[id] = expandGroups(st.Groups)
		}
	}
	return out, nil
}

// expandGroups lists a group once per task in it.
func expandGroups(gc GroupCounts) []string {
	var out []string
	for g, n := range gc {
		for range n {
			out = append(out, g)
		}
	}
	return out
}

// cloneInstance deep-copies an instance (cheaper than decoding it again).
func cloneInstance(ci *ecs.ContainerInstance) *ecs.ContainerInstance {
	c := *ci
	c.RegisteredResources = cloneRes(ci.RegisteredResources)
	c.RemainingResources = cloneRes(ci.RemainingResources)
	c.Attributes = slices.Clone(ci.Attributes)
	c.Tags = slices.Clone(ci.Tags)
	return &c
}

// reservable returns a copy of ci whose remaining resources, all that
// ContainerInstance.Reserve and Release change besides the version, are
// its own; the rest (attributes and all) is shared with ci.
func reservable(ci *ecs.ContainerInstance) *ecs.ContainerInstance {
	c := *ci
	c.RemainingResources = cloneRes(ci.RemainingResources)
	return &c
}

func cloneRes(rs []ecs.Resource) []ecs.Resource {
	out := slices.Clone(rs)
	for i := range out {
		out[i].StringSetValue = slices.Clone(rs[i].StringSetValue)
	}
	return out
}
