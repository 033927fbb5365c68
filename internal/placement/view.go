package placement

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscache"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/scheduler"
)

// view is every cluster's registered instances kept ready for the
// scheduler (scheduler.InstanceState per instance, attribute index
// included), so that placing a task reads, decodes and derives nothing per
// instance. It is a subscriber of the state cache: the cache calls its
// handlers in revision order, and an instance's entry is rebuilt only when
// one of its records changes. Since the cache calls the handlers before its
// revision moves, the view has every change up to the cache's revision:
// a placement that waited for the cache (Cache.WaitForRevision) reads a
// view that has everything acknowledged before it started.
//
// The view also counts each instance's running tasks (its
// runningTasksCount, which the cluster query language can test), from the
// task changes the cache reports, with the rule DescribeContainerInstances
// uses (TaskRunning).
//
// The view only feeds decisions: the commit of a placement compares the
// revisions of the records it charged, so a stale entry costs a retry,
// never a wrong write.
type view struct {
	mu       sync.Mutex
	clusters map[ecscache.ClusterKey]*clusterView
}

// clusterView is one cluster's instances, sorted by ID, and the number of
// running tasks on each.
type clusterView struct {
	entries []*viewEntry
	running map[string]int // instance ID → running tasks
}

// viewEntry is one instance as placement sees it. It is immutable once in
// the view: a change replaces it.
type viewEntry struct {
	id    string
	inst  *ecscache.Instance // the cached records (revisions for the commit)
	ci    *ecs.ContainerInstance
	state scheduler.InstanceState
}

// TaskRunning reports whether a task in lastStatus counts as running on
// its instance (runningTasksCount): from RUNNING until STOPPED. Tasks
// before RUNNING are pending.
func TaskRunning(lastStatus string) bool {
	return lastStatus != ecs.TaskStopped && ecs.TaskStatusIndex(lastStatus) >= ecs.TaskStatusIndex(ecs.TaskRunning)
}

func newView() *view { return &view{clusters: map[ecscache.ClusterKey]*clusterView{}} }

// handlers are the view's subscription to the state cache.
func (v *view) handlers() ecscache.Handlers {
	return ecscache.Handlers{Instance: v.onInstance, Task: v.onTask}
}

// runningOn returns the instance ID a task counts as running on, or "".
func runningOn(t *ecscache.TaskEntry) string {
	if t == nil || t.LaunchType == ecs.LaunchFargate || t.ContainerInstanceARN == "" || !TaskRunning(t.LastStatus) {
		return ""
	}
	return t.ContainerInstanceARN[strings.LastIndexByte(t.ContainerInstanceARN, '/')+1:]
}

func (v *view) onTask(_ int64, sc ecs.Scope, cluster string, old, nu *ecscache.TaskEntry) {
	was, is := runningOn(old), runningOn(nu)
	if was == is {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	cv := v.cluster(ecscache.ClusterKey{Scope: sc, Cluster: cluster})
	if was != "" {
		v.count(cv, was, -1)
	}
	if is != "" {
		v.count(cv, is, 1)
	}
}

func (v *view) onInstance(_ int64, old, nu *ecscache.Instance) {
	in := nu
	if in == nil {
		in = old
	}
	ck := ecscache.ClusterKey{Scope: in.Scope, Cluster: in.Cluster}
	v.mu.Lock()
	defer v.mu.Unlock()
	cv := v.cluster(ck)
	i, found := cv.find(in.ID)
	if !nu.Registered() {
		if found {
			cv.entries = slices.Delete(cv.entries, i, i+1)
		}
		v.drop(ck, cv)
		return
	}
	var prev *viewEntry
	if found {
		prev = cv.entries[i]
	}
	e := derive(nu, prev, cv.running[nu.ID])
	if found {
		cv.entries[i] = e
	} else {
		cv.entries = slices.Insert(cv.entries, i, e)
	}
}

// cluster returns a cluster's view, creating it. v.mu must be held.
func (v *view) cluster(ck ecscache.ClusterKey) *clusterView {
	cv := v.clusters[ck]
	if cv == nil {
		cv = &clusterView{running: map[string]int{}}
		v.clusters[ck] = cv
	}
	return cv
}

// drop forgets an empty cluster view. v.mu must be held.
func (v *view) drop(ck ecscache.ClusterKey, cv *clusterView) {
	if len(cv.entries) == 0 && len(cv.running) == 0 {
		delete(v.clusters, ck)
	}
}

func (cv *clusterView) find(id string) (int, bool) {
	return slices.BinarySearchFunc(cv.entries, id, func(e *viewEntry, id string) int { return cmp.Compare(e.id, id) })
}

// count adds delta to an instance's running tasks and updates its entry.
// v.mu must be held.
func (v *view) count(cv *clusterView, inst string, delta int) {
	n := cv.running[inst] + delta
	if n <= 0 {
		delete(cv.running, inst)
		n = 0
	} else {
		cv.running[inst] = n
	}
	i, found := cv.find(inst)
	if !found {
		return
	}
	old := cv.entries[i]
	e := *old
	ci := *old.ci
	ci.RunningTasksCount = n
	e.ci = &ci
	e.state.Instance = &ci
	cv.entries[i] = &e
}

// derive computes what placement sees of an instance with running tasks
// running on it, reusing prev's attribute index while the instance record
// is the same, and its ports while they are.
func derive(in *ecscache.Instance, prev *viewEntry, running int) *viewEntry {
	e := &viewEntry{id: in.ID, inst: in}
	e.ci = in.Current
	if e.ci.RunningTasksCount != running {
		c := *in.Current
		c.RunningTasksCount = running
		e.ci = &c
	}
	var groups ecsstore.GroupCounts
	if in.State != nil {
		groups = in.State.Groups
	}
	var attrs map[string]string
	if prev != nil && prev.inst.Record == in.Record {
		attrs = prev.state.AttributeIndex
	} else {
		attrs = scheduler.IndexAttributes(in.Record)
	}
	var prevState *scheduler.InstanceState
	if prev != nil {
		prevState = &prev.state
	}
	e.state = schedStateFrom(e.ci, groups, attrs, prevState)
	return e
}

// schedStateFrom is an instance as the scheduler sees it, reusing the
// ports taken that prev (the same instance's state before; nil for none)
// found, if the instance's port resources have not changed since. ci,
// groups and attrs are shared with the result: none may be modified
// afterwards.
func schedStateFrom(ci *ecs.ContainerInstance, groups ecsstore.GroupCounts, attrs map[string]string, prev *scheduler.InstanceState) scheduler.InstanceState {
	cpu, mem := ci.Remaining()
	var tcp, udp []int
	if prev != nil && prev.Instance != nil && samePorts(prev.Instance, ci) {
		tcp, udp = prev.TCPPorts, prev.UDPPorts
	} else {
		tcp, udp = ci.UsedPorts()
	}
	return scheduler.InstanceState{Instance: ci, CPU: cpu, Memory: mem, TCPPorts: tcp, UDPPorts: udp, GroupCounts: groups, AttributeIndex: attrs}
}

// samePorts reports whether two instances' remaining PORTS and PORTS_UDP
// resources are the same.
func samePorts(a, b *ecs.ContainerInstance) bool {
	for _, name := range []string{ecs.ResourcePorts, ecs.ResourcePortsUDP} {
		ra, rb := findResource(a.RemainingResources, name), findResource(b.RemainingResources, name)
		if (ra == nil) != (rb == nil) || (ra != nil && !slices.Equal(ra.StringSetValue, rb.StringSetValue)) {
			return false
		}
	}
	return true
}

func findResource(rs []ecs.Resource, name string) *ecs.Resource {
	for i := range rs {
		if rs[i].Name == name {
			return &rs[i]
		}
	}
	return nil
}

// snapshot returns the cluster's registered instances, in ID order,
// appended to dst[:0]. The entries are shared: do not modify them.
func (v *view) snapshot(ck ecscache.ClusterKey, dst []*viewEntry) []*viewEntry {
	v.mu.Lock()
	defer v.mu.Unlock()
	cv := v.clusters[ck]
	if cv == nil {
		return dst[:0]
	}
	return append(dst[:0], cv.entries...)
}
