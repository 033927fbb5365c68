package ecscache_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscache"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
)

var sc = ecs.Scope{Account: "123456789012", Region: "eu-west-1"}

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// run runs c until the test ends, and waits for it then.
func run(t *testing.T, c *ecscache.Cache) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func seedCluster(t *testing.T, r *ecsstore.Repo, name string) {
	t.Helper()
	cl := &ecs.Cluster{Name: name, ARN: sc.ClusterARN(name), Status: ecs.ClusterActive}
	if _, _, err := r.CreateCluster(t.Context(), sc, cl, nil); err != nil {
		t.Fatal(err)
	}
}

func instanceARN(cluster, id string) string {
	return sc.ContainerInstanceARN(cluster, id)
}

func seedInstance(t *testing.T, r *ecsstore.Repo, cluster, id string) {
	t.Helper()
	ci := &ecs.ContainerInstance{
		ARN: instanceARN(cluster, id), ID: id, Status: ecs.InstanceActive, Version: 1,
		RegisteredResources: []ecs.Resource{{Name: ecs.ResourceCPU, Type: ecs.ResourceTypeInteger, IntegerValue: 1024}, {Name: ecs.ResourceMemory, Type: ecs.ResourceTypeInteger, IntegerValue: 2048}},
		RemainingResources:  []ecs.Resource{{Name: ecs.ResourceCPU, Type: ecs.ResourceTypeInteger, IntegerValue: 1024}, {Name: ecs.ResourceMemory, Type: ecs.ResourceTypeInteger, IntegerValue: 2048}},
	}
	if err := r.RegisterInstance(t.Context(), sc, ci, nil); err != nil {
		t.Fatal(err)
	}
}

// placeTask commits one task of 128 CPU on instance i1 of the cluster,
// the way a placement does.
func placeTask(t *testing.T, r *ecsstore.Repo, cluster, id string) *ecs.Task {
	t.Helper()
	ctx := t.Context()
	st := r.Store()
	_, crev, err := r.ActiveClusterRev(ctx, sc, cluster)
	if err != nil {
		t.Fatal(err)
	}
	ref := ecs.InstanceRef{Cluster: cluster, ID: "i1"}
	ci, err := r.Instance(ctx, sc, ref)
	if err != nil {
		t.Fatal(err)
	}
	base := "/ecs/" + sc.Account + "/" + sc.Region
	rec, err := st.Get(ctx, base+"/instances/"+cluster+"/i1")
	if err != nil {
		t.Fatal(err)
	}
	state, err := st.Get(ctx, base+"/instance-state/"+cluster+"/i1")
	if err != nil {
		t.Fatal(err)
	}
	groups, err := r.InstanceGroups(ctx, sc, cluster)
	if err != nil {
		t.Fatal(err)
	}
	gc := ecsstore.GroupCounts{}
	for _, g := range groups["i1"] {
		gc[g]++
	}
	gc["family:web"]++
	if err := ci.Reserve(ecs.TaskResources{CPU: 128, Memory: 128}); err != nil {
		t.Fatal(err)
	}
	task := &ecs.Task{
		ID: id, ARN: sc.TaskARN(cluster, id), ClusterARN: sc.ClusterARN(cluster), ContainerInstanceARN: ci.ARN,
		LastStatus: ecs.TaskProvisioning, DesiredStatus: ecs.TaskRunning, LaunchType: ecs.LaunchEC2, Group: "family:web",
	}
	_, err = r.CommitPlacement(ctx, sc, &ecsstore.PlacementCommit{
		Cluster: cluster, ClusterRev: crev, Tasks: []ecsstore.NewTask{{Task: task}},
		Instances: []ecsstore.ChargedInstance{{ID: "i1", RecordRev: rec.ModRevision, StateRev: state.ModRevision,
			State: &ecsstore.StateRecord{Remaining: ci.RemainingResources, Version: ci.Version, Groups: gc}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func stopTask(t *testing.T, r *ecsstore.Repo, cluster, id string) {
	t.Helper()
	_, err := r.UpdateTask(t.Context(), sc, cluster, id, func(tk *ecs.Task) error {
		tk.LastStatus, tk.DesiredStatus = ecs.TaskStopped, ecs.TaskStopped
		return nil
	}, func(context.Context, *ecs.Task) (ecs.TaskResources, error) {
		return ecs.TaskResources{CPU: 128, Memory: 128}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func cpuLeft(in *ecscache.Instance) int {
	for _, res := range in.Current.RemainingResources {
		if res.Name == ecs.ResourceCPU {
			return res.IntegerValue
		}
	}
	return -1
}

// TestListThenWatch: what was written before Run is listed, what is
// written after is watched, and Sync makes every acknowledged write
// visible (read your writes).
func TestListThenWatch(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	r := ecsstore.New(st)
	seedCluster(t, r, "c")
	seedInstance(t, r, "c", "i1")
	placeTask(t, r, "c", "t1")

	c := ecscache.New(st, nil)
	if c.Revision() != 0 {
		t.Fatalf("revision before Run: %d", c.Revision())
	}
	run(t, c)
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if cl, _, ok := c.Cluster(sc, "c"); !ok || cl.Status != ecs.ClusterActive {
		t.Fatalf("cluster: %v %v", cl, ok)
	}
	ins := c.Instances(sc, "c")
	if len(ins) != 1 || ins[0].ID != "i1" || cpuLeft(ins[0]) != 1024-128 || ins[0].State.Groups["family:web"] != 1 {
		t.Fatalf("instances: %+v", ins)
	}
	if tk, ok := c.Task(sc, "c", "t1"); !ok || tk.LastStatus != ecs.TaskProvisioning {
		t.Fatalf("task t1: %v %v", tk, ok)
	}

	// Watched: a second task, then a stop that releases the first one's
	// resources in the same revision.
	placeTask(t, r, "c", "t2")
	stopTask(t, r, "c", "t1")
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := c.Tasks(sc, "c"); len(got) != 2 || got[0].ID != "t1" || got[1].ID != "t2" || got[0].LastStatus != ecs.TaskStopped {
		t.Fatalf("tasks: %v", got)
	}
	if got := c.InstanceTasks(instanceARN("c", "i1")); len(got) != 2 {
		t.Fatalf("instance tasks: %d", len(got))
	}
	in, _ := c.Instance(sc, "c", "i1")
	if cpuLeft(in) != 1024-128 || in.State.Groups["family:web"] != 1 {
		t.Fatalf("instance after stop: cpu %d groups %v", cpuLeft(in), in.State.Groups)
	}

	// A write outside /ecs/ still moves the cache's revision.
	rev, err := st.Txn(ctx, nil, []store.Op{{Key: "/tags/x", Value: []byte("[]")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WaitForRevision(ctx, rev); err != nil {
		t.Fatal(err)
	}
	if c.Revision() < rev {
		t.Fatalf("revision %d < %d", c.Revision(), rev)
	}
}

type recorder struct {
	mu     sync.Mutex
	events []string
	revs   []int64
	revc   chan int64 // every revision, if not nil (buffered)
}

func (rc *recorder) add(s string) {
	rc.mu.Lock()
	rc.events = append(rc.events, s)
	rc.mu.Unlock()
}

func (rc *recorder) handlers() ecscache.Handlers {
	return ecscache.Handlers{
		Task: func(rev int64, _ ecs.Scope, cluster string, old, nu *ecscache.TaskEntry) {
			switch {
			case nu == nil:
				rc.add("task-del " + old.ID)
			case old == nil:
				rc.add("task-new " + nu.ID + " " + nu.LastStatus)
			default:
				rc.add("task " + nu.ID + " " + old.LastStatus + "->" + nu.LastStatus)
			}
		},
		Instance: func(rev int64, old, nu *ecscache.Instance) {
			switch {
			case nu == nil:
				rc.add("inst-del " + old.ID)
			case old == nil:
				rc.add(fmt.Sprintf("inst-new %s registered=%v", nu.ID, nu.Registered()))
			default:
				rc.add(fmt.Sprintf("inst %s registered=%v", nu.ID, nu.Registered()))
			}
		},
		Revision: func(rev int64) {
			rc.mu.Lock()
			rc.revs = append(rc.revs, rev)
			rc.mu.Unlock()
			if rc.revc != nil {
				rc.revc <- rev
			}
		},
	}
}

func (rc *recorder) take() ([]string, []int64) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	ev, revs := rc.events, rc.revs
	rc.events, rc.revs = nil, nil
	return ev, revs
}

func wantEvents(t *testing.T, got, want []string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events:\n got  %q\n want %q", got, want)
	}
}

// TestHandlers: subscribers see every change with its old and new object,
// in revision order, and each revision once complete; a re-list (a second
// Run over changes it missed) reaches them as the difference.
func TestHandlers(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	r := ecsstore.New(st)
	seedCluster(t, r, "c")
	seedInstance(t, r, "c", "i1")

	c := ecscache.New(st, nil)
	rc := &recorder{}
	c.Subscribe(rc.handlers())
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(rctx) }()
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got, revs := rc.take()
	// The listed instance: one Instance change per record, the state
	// record (listed first: "instance-state" < "instances") then the
	// instance record.
	wantEvents(t, got, []string{"inst-new i1 registered=false", "inst i1 registered=true"})
	if len(revs) != 1 {
		t.Fatalf("revisions after list: %v", revs)
	}

	placeTask(t, r, "c", "t1")
	stopTask(t, r, "c", "t1")
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got, revs = rc.take()
	wantEvents(t, got, []string{
		"task-new t1 PROVISIONING", "inst i1 registered=true", // placement: task, state record
		"task t1 PROVISIONING->STOPPED", "inst i1 registered=true", // stop: task, release
	})
	if len(revs) != 2 || revs[0] >= revs[1] {
		t.Fatalf("revisions: %v", revs)
	}

	// Stopped: changes made meanwhile come as a difference on the next Run.
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := c.WaitForRevision(ctx, c.Revision()+1); err == nil {
		t.Fatal("WaitForRevision on a stopped cache succeeded")
	}
	if err := r.DeleteTask(ctx, sc, "c", "t1"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.DeregisterInstance(ctx, sc, ecs.InstanceRef{Cluster: "c", ID: "i1"}, func(*ecs.ContainerInstance) error { return nil }); err != nil {
		t.Fatal(err)
	}
	rc.revc = make(chan int64, 16)
	run(t, c)
	<-rc.revc // the re-list is applied: Run is running again
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ = rc.take()
	wantEvents(t, got, []string{"inst i1 registered=true", "inst-del i1", "task-del t1"}) // in key order
	if _, ok := c.Instance(sc, "c", "i1"); ok {
		t.Fatal("deregistered instance still cached")
	}
	if _, ok := c.Task(sc, "c", "t1"); ok {
		t.Fatal("deleted task still cached")
	}
}

// TestWaitForRevision: a wait ends with its context, and with the cache.
func TestWaitForRevision(t *testing.T) {
	st := openStore(t)
	c := ecscache.New(st, nil)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- c.WaitForRevision(ctx, 1_000_000) }()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled wait: %v", err)
	}

	rctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Run(rctx) }()
	go func() { errc <- c.WaitForRevision(t.Context(), 1_000_000) }()
	if err := c.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	stop()
	<-done
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("wait for a future revision succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("wait did not end with the cache")
	}
}

// TestStoreClosed: Run returns an error when the store closes under it.
func TestStoreClosed(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := ecscache.New(st, nil)
	done := make(chan error, 1)
	go func() { done <- c.Run(t.Context()) }()
	if err := c.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := <-done; err == nil {
		t.Fatal("Run returned nil after the store closed")
	}
}

// TestTaskEntryLazy: a task's header is what its whole task says; the
// whole task is decoded once per revision, the same for concurrent
// readers; a record whose header decodes but whose rest does not is
// absent to the reads that return whole tasks.
func TestTaskEntryLazy(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	r := ecsstore.New(st)
	seedCluster(t, r, "c")
	seedInstance(t, r, "c", "i1")
	placeTask(t, r, "c", "t1")
	placeTask(t, r, "c", "t2")
	c := ecscache.New(st, nil)
	run(t, c)
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	e, ok := c.TaskEntry(sc, "c", "t1")
	if !ok {
		t.Fatal("no entry for t1")
	}
	const readers = 8
	got := make([]*ecs.Task, readers)
	var wg sync.WaitGroup
	for i := range readers {
		wg.Go(func() { got[i] = e.Task() })
	}
	wg.Wait()
	full := got[0]
	if full == nil || full.ID != "t1" || full.Group != "family:web" {
		t.Fatalf("whole task: %+v", full)
	}
	for _, g := range got[1:] {
		if g != full {
			t.Fatal("concurrent readers got different decodings of one revision")
		}
	}
	h := e.TaskHeader
	if h.ARN != full.ARN || h.ID != full.ID || h.ContainerInstanceARN != full.ContainerInstanceARN || h.LaunchType != full.LaunchType ||
		h.LastStatus != full.LastStatus || h.DesiredStatus != full.DesiredStatus || !h.StoppedAt.Equal(full.StoppedAt) || h.StoppedReason != full.StoppedReason {
		t.Fatalf("header %+v differs from the task %+v", h, full)
	}
	if tk, ok := c.Task(sc, "c", "t1"); !ok || tk != full {
		t.Fatalf("Task after the entry decoded: %p %v, want %p", tk, ok, full)
	}

	// A new revision is a new entry; its header follows the record.
	stopTask(t, r, "c", "t1")
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	e2, _ := c.TaskEntry(sc, "c", "t1")
	if e2 == e || e2.LastStatus != ecs.TaskStopped || e2.Task().LastStatus != ecs.TaskStopped || !e2.StoppedAt.Equal(e2.Task().StoppedAt) {
		t.Fatalf("after stop: entry %+v", e2.TaskHeader)
	}

	// A header that decodes over a body that does not.
	kvs, _, err := st.List(ctx, "/ecs/", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var key string
	for _, kv := range kvs {
		if strings.Contains(kv.Key, "/tasks/") && strings.HasSuffix(kv.Key, "t2") {
			key = kv.Key
		}
	}
	if key == "" {
		t.Fatal("no record for t2")
	}
	bad := fmt.Sprintf(`{"taskArn":%q,"lastStatus":"RUNNING","desiredStatus":"RUNNING","containers":"not a list"}`, e2.ARN[:strings.LastIndexByte(e2.ARN, '/')]+"/t2")
	rev, err := st.Txn(ctx, nil, []store.Op{{Key: key, Value: []byte(bad)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WaitForRevision(ctx, rev); err != nil {
		t.Fatal(err)
	}
	be, ok := c.TaskEntry(sc, "c", "t2")
	if !ok || be.LastStatus != ecs.TaskRunning || be.Task() != nil {
		t.Fatalf("bad record: entry %v %+v", ok, be)
	}
	if tk, ok := c.Task(sc, "c", "t2"); ok || tk != nil {
		t.Fatalf("Task of an undecodable record: %v %v", tk, ok)
	}
	if ts := c.Tasks(sc, "c"); len(ts) != 1 || ts[0].ID != "t1" {
		t.Fatalf("Tasks with an undecodable record: %v", ts)
	}
	if n := len(c.TaskEntries(sc, "c")); n != 2 {
		t.Fatalf("TaskEntries: %d, want 2", n)
	}
}
