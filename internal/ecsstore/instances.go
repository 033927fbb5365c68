package ecsstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
)

// Container instances use three kinds of keys:
//
//	instances/<cluster>/<id>           a registered (EC2 or external) container
//	                                   instance, as ecs.ContainerInstance JSON
//	instance-groups/<cluster>/<id>     the task groups placed on it and not yet
//	                                   stopped ({"family:web": 2}), written in the
//	                                   same transactions that reserve and release
//	                                   its resources, so placement never has to
//	                                   read the tasks
//	managed-instances/<cluster>        the hidden instance of berth's managed
//	                                   (Fargate) capacity in that cluster; it is
//	                                   not listed and not counted as registered
//
// A deregistered instance's keys are deleted.
func instanceKey(sc ecs.Scope, cluster, id string) string {
	return prefix(sc, "instances") + cluster + "/" + id
}
func groupsKey(sc ecs.Scope, cluster, id string) string {
	return prefix(sc, "instance-groups") + cluster + "/" + id
}
func managedKey(sc ecs.Scope, cluster string) string {
	return prefix(sc, "managed-instances") + cluster
}

// Key kinds, as KeyInfo reports them.
const (
	KindTask            = "tasks"
	KindInstance        = "instances"
	KindManagedInstance = "managed-instances"
	KindCluster         = "clusters"
)

// KeyInfo splits an ECS key into its scope, kind, cluster and object ID
// (for managed instances the ID is ""). ok is false for keys outside the
// /ecs/ tree.
func KeyInfo(key string) (sc ecs.Scope, kind, cluster, id string, ok bool) {
	rest, found := strings.CutPrefix(key, "/ecs/")
	if !found {
		return sc, "", "", "", false
	}
	parts := strings.SplitN(rest, "/", 5)
	if len(parts) < 4 {
		return sc, "", "", "", false
	}
	sc = ecs.Scope{Account: parts[0], Region: parts[1]}
	kind, cluster = parts[2], parts[3]
	if len(parts) == 5 {
		id = parts[4]
	}
	return sc, kind, cluster, id, true
}

// InstanceRef is a container instance reference resolved to its cluster and
// ID.
type InstanceRef struct {
	Cluster string
	ID      string
}

// ParseInstanceRef resolves a container instance ARN or ID; a bare ID
// belongs to defaultCluster.
func ParseInstanceRef(ref, defaultCluster string) (InstanceRef, error) {
	if !strings.HasPrefix(ref, "arn:") {
		if ref == "" || strings.Contains(ref, "/") {
			return InstanceRef{}, fault.New(fault.InvalidParameter, "Invalid container instance identifier %q.", ref)
		}
		return InstanceRef{Cluster: defaultCluster, ID: ref}, nil
	}
	p, ok := ecs.ParseARN(ref)
	rest, isCI := strings.CutPrefix(p.Resource, "container-instance/")
	if !ok || p.Service != "ecs" || !isCI {
		return InstanceRef{}, fault.New(fault.InvalidParameter, "Invalid container instance ARN %q.", ref)
	}
	cluster, id, hasCluster := strings.Cut(rest, "/")
	if !hasCluster {
		// Short ARN format: container-instance/<id>.
		return InstanceRef{Cluster: defaultCluster, ID: cluster}, nil
	}
	return InstanceRef{Cluster: cluster, ID: id}, nil
}

func instanceNotFound(id string) error {
	return fault.NotFoundf("containerInstance", "The referenced container instance %s was not found.", id)
}

// instanceCache remembers decoded instances by key and exact value, so
// that placement, which reads every instance of a cluster, decodes only the
// instances that changed since it last looked. Entries are immutable: callers
// that mutate an instance decode their own copy.
var instanceCache = struct {
	sync.Mutex
	m map[string]cachedInstance
}{m: map[string]cachedInstance{}}

type cachedInstance struct {
	raw []byte
	ci  *ecs.ContainerInstance
}

const maxCachedInstances = 200_000

// rememberInstance caches an instance this process just wrote, so that
// reading it back (through the watch) does not decode it. ci must not be
// modified afterwards.
func rememberInstance(key string, raw []byte, ci *ecs.ContainerInstance) {
	instanceCache.Lock()
	if len(instanceCache.m) >= maxCachedInstances {
		clear(instanceCache.m)
	}
	instanceCache.m[key] = cachedInstance{raw: raw, ci: ci}
	instanceCache.Unlock()
}

func decodeInstanceShared(kv store.KV) (*ecs.ContainerInstance, error) {
	instanceCache.Lock()
	c, ok := instanceCache.m[kv.Key]
	instanceCache.Unlock()
	if ok && bytes.Equal(c.raw, kv.Value) {
		return c.ci, nil
	}
	ci, err := decode[ecs.ContainerInstance](kv)
	if err != nil {
		return nil, err
	}
	instanceCache.Lock()
	if len(instanceCache.m) >= maxCachedInstances {
		clear(instanceCache.m)
	}
	instanceCache.m[kv.Key] = cachedInstance{raw: kv.Value, ci: ci}
	instanceCache.Unlock()
	return ci, nil
}

// RegisterInstance stores a new container instance in an ACTIVE cluster.
func (r *Repo) RegisterInstance(ctx context.Context, sc ecs.Scope, ci *ecs.ContainerInstance, tags []ecs.Tag) error {
	ref, err := ParseInstanceRef(ci.ARN, "")
	if err != nil {
		return err
	}
	return storeErr(retry(ctx, func() error {
		ck := clusterKey(sc, ref.Cluster)
		cl, crev, err := getJSON[ecs.Cluster](ctx, r.s, ck)
		if errors.Is(err, store.ErrNotFound) || (err == nil && cl.Status != ecs.ClusterActive) {
			return clusterNotFound(ref.Cluster)
		}
		if err != nil {
			return err
		}
		key := instanceKey(sc, ref.Cluster, ref.ID)
		ops := append([]store.Op{{Key: key, Value: mustJSON(ci)}}, tagOps(ci.ARN, tags)...)
		_, err = r.s.Txn(ctx, []store.Compare{{Key: ck, ModRevision: crev}, {Key: key}}, ops)
		return err
	}))
}

// instanceLoc is where an instance lives in the store.
type instanceLoc struct {
	key     string
	managed bool
}

// locate finds the key of an instance (registered or managed).
func (r *Repo) locate(ctx context.Context, sc ecs.Scope, ref InstanceRef) (instanceLoc, *ecs.ContainerInstance, int64, error) {
	key := instanceKey(sc, ref.Cluster, ref.ID)
	ci, rev, err := getJSON[ecs.ContainerInstance](ctx, r.s, key)
	if err == nil {
		return instanceLoc{key: key}, ci, rev, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return instanceLoc{}, nil, 0, err
	}
	mk := managedKey(sc, ref.Cluster)
	ci, rev, err = getJSON[ecs.ContainerInstance](ctx, r.s, mk)
	if err == nil && ci.ID == ref.ID {
		return instanceLoc{key: mk, managed: true}, ci, rev, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return instanceLoc{}, nil, 0, err
	}
	return instanceLoc{}, nil, 0, instanceNotFound(ref.ID)
}

// Instance returns a container instance (registered or managed) or a
// NotFound fault.
func (r *Repo) Instance(ctx context.Context, sc ecs.Scope, ref InstanceRef) (*ecs.ContainerInstance, error) {
	_, ci, _, err := r.locate(ctx, sc, ref)
	return ci, storeErr(err)
}

// IsManaged reports whether the instance is berth's managed capacity.
func (r *Repo) IsManaged(ctx context.Context, sc ecs.Scope, ref InstanceRef) (bool, error) {
	loc, _, _, err := r.locate(ctx, sc, ref)
	return loc.managed, storeErr(err)
}

// Instances returns the registered container instances of a cluster (not
// the managed one), ordered by ID. The instances are shared: do not modify
// them.
func (r *Repo) Instances(ctx context.Context, sc ecs.Scope, cluster string) ([]*ecs.ContainerInstance, error) {
	kvs, _, err := r.s.List(ctx, prefix(sc, "instances")+cluster+"/", store.ListOptions{})
	if err != nil {
		return nil, storeErr(err)
	}
	out := make([]*ecs.ContainerInstance, 0, len(kvs))
	for _, kv := range kvs {
		ci, err := decodeInstanceShared(kv)
		if err != nil {
			return nil, err
		}
		out = append(out, ci)
	}
	return out, nil
}

// ManagedInstance returns a cluster's managed instance, or a NotFound fault
// if the cluster has never run a task on managed capacity.
func (r *Repo) ManagedInstance(ctx context.Context, sc ecs.Scope, cluster string) (*ecs.ContainerInstance, error) {
	ci, _, err := getJSON[ecs.ContainerInstance](ctx, r.s, managedKey(sc, cluster))
	if errors.Is(err, store.ErrNotFound) {
		return nil, instanceNotFound("managed/" + cluster)
	}
	return ci, storeErr(err)
}

// UpdateInstance changes an instance (registered or managed) with fn,
// atomically. fn may return ErrNoChange to write nothing.
func (r *Repo) UpdateInstance(ctx context.Context, sc ecs.Scope, ref InstanceRef, fn func(*ecs.ContainerInstance) error) (*ecs.ContainerInstance, error) {
	var out *ecs.ContainerInstance
	err := retry(ctx, func() error {
		loc, ci, rev, err := r.locate(ctx, sc, ref)
		if err != nil {
			return err
		}
		if err := fn(ci); err != nil {
			if errors.Is(err, ErrNoChange) {
				out = ci
				return nil
			}
			return err
		}
		if _, err := r.s.Txn(ctx, []store.Compare{{Key: loc.key, ModRevision: rev}}, []store.Op{{Key: loc.key, Value: mustJSON(ci)}}); err != nil {
			return err
		}
		out = ci
		return nil
	})
	return out, storeErr(err)
}

// ErrNoChange, returned by an update function, makes the update a no-op.
var ErrNoChange = errors.New("ecsstore: no change")

// DeregisterInstance removes a registered instance. check sees the
// instance and may refuse. The returned instance is INACTIVE.
func (r *Repo) DeregisterInstance(ctx context.Context, sc ecs.Scope, ref InstanceRef, check func(*ecs.ContainerInstance) error) (*ecs.ContainerInstance, error) {
	var out *ecs.ContainerInstance
	err := retry(ctx, func() error {
		loc, ci, rev, err := r.locate(ctx, sc, ref)
		if err != nil {
			return err
		}
		if loc.managed {
			return instanceNotFound(ref.ID)
		}
		if err := check(ci); err != nil {
			return err
		}
		ops := []store.Op{
			{Key: loc.key, Delete: true},
			{Key: groupsKey(sc, ref.Cluster, ref.ID), Delete: true},
			{Key: tagKey(ci.ARN), Delete: true},
		}
		if _, err := r.s.Txn(ctx, []store.Compare{{Key: loc.key, ModRevision: rev}}, ops); err != nil {
			return err
		}
		ci.Status = ecs.InstanceInactive
		ci.AgentConnected = false
		out = ci
		return nil
	})
	return out, storeErr(err)
}

// groupCounts is the instance-groups record.
type groupCounts map[string]int

// InstanceGroups returns, per registered instance ID of the cluster, the
// groups of its tasks that are not stopped (one entry per task).
func (r *Repo) InstanceGroups(ctx context.Context, sc ecs.Scope, cluster string) (map[string][]string, error) {
	p := prefix(sc, "instance-groups") + cluster + "/"
	kvs, _, err := r.s.List(ctx, p, store.ListOptions{})
	if err != nil {
		return nil, storeErr(err)
	}
	out := make(map[string][]string, len(kvs))
	for _, kv := range kvs {
		var gc groupCounts
		if err := json.Unmarshal(kv.Value, &gc); err != nil {
			return nil, fault.Wrap(err, fault.Internal, "corrupt record %s", kv.Key)
		}
		var groups []string
		for g, n := range gc {
			for range n {
				groups = append(groups, g)
			}
		}
		out[kv.Key[len(p):]] = groups
	}
	return out, nil
}

// placementView is an in-memory copy of every cluster's registered
// instances and their task groups, kept current by a watch of the whole
// store, so that placing a task does not read (or decode) a thousand
// instance records. It only serves as the input of a decision: the commit
// compares the revisions of the records it read, so a stale view costs a
// retry, never a wrong write. Reads wait until the view has caught up with
// the store revision current when they start (read-your-writes).
type placementView struct {
	s    store.Store
	mu   sync.Mutex
	cond *sync.Cond
	rev  int64
	dead bool

	// by scope|cluster: instances sorted by key, and groups by instance ID
	instances map[string][]viewInstance
	groups    map[string]map[string]viewGroups
}

type viewInstance struct {
	ci *ecs.ContainerInstance // shared; never modified
	kv store.KV
}

type viewGroups struct {
	counts groupCounts
	groups []string
	rev    int64
}

var views sync.Map // store.Store → *placementView

func viewScopeKey(sc ecs.Scope, cluster string) string {
	return sc.Account + "|" + sc.Region + "|" + cluster
}

// view returns the store's placement view, starting it on first use.
func (r *Repo) view() *placementView {
	if v, ok := views.Load(r.s); ok {
		return v.(*placementView)
	}
	v := &placementView{s: r.s, instances: map[string][]viewInstance{}, groups: map[string]map[string]viewGroups{}}
	v.cond = sync.NewCond(&v.mu)
	if actual, loaded := views.LoadOrStore(r.s, v); loaded {
		return actual.(*placementView)
	}
	go v.run()
	return v
}

func (v *placementView) run() {
	ctx := context.Background()
	defer func() {
		v.mu.Lock()
		v.dead = true
		v.cond.Broadcast()
		v.mu.Unlock()
		views.Delete(v.s)
	}()
	for {
		rev, err := v.load(ctx)
		if err != nil {
			return
		}
		ch, err := v.s.Watch(ctx, "/", rev)
		if errors.Is(err, store.ErrCompacted) {
			continue
		}
		if err != nil {
			return
		}
		for ev := range ch {
			v.apply(ev)
		}
		if _, err := v.s.Revision(ctx); err != nil {
			return // the store closed
		}
	}
}

// load lists every instance and group record.
func (v *placementView) load(ctx context.Context) (int64, error) {
	kvs, rev, err := v.s.List(ctx, "/ecs/", store.ListOptions{})
	if err != nil {
		return 0, err
	}
	v.mu.Lock()
	clear(v.instances)
	clear(v.groups)
	v.mu.Unlock()
	for _, kv := range kvs {
		v.apply(store.Event{Type: store.EventPut, KV: kv})
	}
	v.mu.Lock()
	v.rev = rev
	v.cond.Broadcast()
	v.mu.Unlock()
	return rev, nil
}

func (v *placementView) apply(ev store.Event) {
	sc, kind, cluster, id, ok := KeyInfo(ev.KV.Key)
	var ci *ecs.ContainerInstance
	var gc groupCounts
	if ok && ev.Type == store.EventPut {
		switch kind {
		case KindInstance:
			var err error
			if ci, err = decodeInstanceShared(ev.KV); err != nil {
				ok = false
			}
		case "instance-groups":
			if json.Unmarshal(ev.KV.Value, &gc) != nil {
				ok = false
			}
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if ev.KV.ModRevision > v.rev {
		v.rev = ev.KV.ModRevision
		v.cond.Broadcast()
	}
	if !ok || id == "" {
		return
	}
	sk := viewScopeKey(sc, cluster)
	switch kind {
	case KindInstance:
		list := v.instances[sk]
		i, found := slices.BinarySearchFunc(list, ev.KV.Key, func(e viewInstance, k string) int { return strings.Compare(e.kv.Key, k) })
		switch {
		case ev.Type == store.EventDelete && found:
			list = slices.Delete(list, i, i+1)
		case ev.Type == store.EventDelete:
		case found:
			list[i] = viewInstance{ci: ci, kv: ev.KV}
		default:
			list = slices.Insert(list, i, viewInstance{ci: ci, kv: ev.KV})
		}
		v.instances[sk] = list
	case "instance-groups":
		m := v.groups[sk]
		if ev.Type == store.EventDelete {
			delete(m, id)
			return
		}
		if m == nil {
			m = map[string]viewGroups{}
			v.groups[sk] = m
		}
		var groups []string
		for g, n := range gc {
			for range n {
				groups = append(groups, g)
			}
		}
		m[id] = viewGroups{counts: gc, groups: groups, rev: ev.KV.ModRevision}
	}
}

// snapshot returns the cluster's instances (in ID order) and their groups
// (aligned with the instances) once the view has seen revision minRev.
func (v *placementView) snapshot(ctx context.Context, sc ecs.Scope, cluster string, minRev int64) ([]viewInstance, []viewGroups, error) {
	stop := context.AfterFunc(ctx, func() {
		v.mu.Lock()
		v.cond.Broadcast()
		v.mu.Unlock()
	})
	defer stop()
	v.mu.Lock()
	defer v.mu.Unlock()
	for v.rev < minRev && !v.dead && ctx.Err() == nil {
		v.cond.Wait()
	}
	if v.dead {
		return nil, nil, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	sk := viewScopeKey(sc, cluster)
	out := slices.Clone(v.instances[sk])
	gm := v.groups[sk]
	groups := make([]viewGroups, len(out))
	for i, vi := range out {
		groups[i] = gm[vi.ci.ID]
	}
	return out, groups, nil
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

func cloneRes(rs []ecs.Resource) []ecs.Resource {
	out := slices.Clone(rs)
	for i := range out {
		out[i].StringSetValue = slices.Clone(rs[i].StringSetValue)
	}
	return out
}
