package controller

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecscache"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
)

// TestCacheSource runs the Source over the real state cache and store:
// the initial list reaches the handlers as changes, then every write.
func TestCacheSource(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	put := func(key, value string) {
		t.Helper()
		if _, err := st.Txn(ctx, nil, []store.Op{{Key: key, Value: []byte(value)}}); err != nil {
			t.Fatal(err)
		}
	}
	const pre = "/ecs/123456789012/eu-west-1/"
	const taskARN = "arn:aws:ecs:eu-west-1:123456789012:task/c1/t1"
	const managedARN = "arn:aws:ecs:eu-west-1:123456789012:container-instance/c1/m1"
	put(pre+"clusters/c1", `{"name":"c1","status":"ACTIVE"}`)
	put(pre+"instances/c1/i1", `{"containerInstanceArn":"`+instARN+`","agentConnected":true}`)
	put(pre+"managed-instances/c1", `{"containerInstanceArn":"`+managedARN+`"}`)
	put(pre+"tasks/c1/t1", `{"taskArn":"`+taskARN+`","containerInstanceArn":"`+instARN+`","desiredStatus":"RUNNING","lastStatus":"PENDING"}`)

	cache := ecscache.New(st, nil)
	src := NewCacheSource(cache)
	tasks := make(chan [2]*TaskInfo, 16)
	insts := make(chan [2]*InstanceInfo, 16)
	src.Subscribe(Handlers{
		Task:     func(old, cur *TaskInfo) { tasks <- [2]*TaskInfo{old, cur} },
		Instance: func(old, cur *InstanceInfo) { insts <- [2]*InstanceInfo{old, cur} },
	})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = cache.Run(rctx) }()
	defer func() { cancel(); <-done }()
	if err := src.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	ts := src.InstanceTasks(instARN)
	if len(ts) != 1 || ts[0].ID != "t1" || ts[0].Key != taskARN || ts[0].Desired != "RUNNING" || ts[0].Scope != scope || ts[0].Cluster != "c1" {
		t.Fatalf("InstanceTasks = %+v", ts)
	}
	if got, ok := src.Task(taskARN); !ok || got != ts[0] {
		t.Fatalf("Task(%s) = %+v, %v", taskARN, got, ok)
	}
	if c, ok := src.Cluster(ClusterKey(scope, "c1")); !ok || !c.Active || len(src.Clusters()) != 1 {
		t.Fatalf("Cluster = %+v, %v; Clusters = %v", c, ok, src.Clusters())
	}
	if m, ok := src.ManagedInstance(ClusterKey(scope, "c1")); !ok || m.ARN != managedARN || !m.Managed {
		t.Fatalf("ManagedInstance = %+v, %v", m, ok)
	}
	if i, ok := src.Instance(managedARN); !ok || !i.Managed {
		t.Fatalf("Instance(managed) = %+v, %v", i, ok)
	}
	if i, ok := src.Instance(instARN); !ok || !i.Connected || i.Managed {
		t.Fatalf("Instance = %+v, %v", i, ok)
	}
	if n := len(src.Instances()); n != 2 {
		t.Fatalf("Instances: %d; want 2", n)
	}
	next := func() [2]*TaskInfo {
		t.Helper()
		select {
		case ev := <-tasks:
			return ev
		case <-time.After(10 * time.Second):
			t.Fatal("no task event")
			return [2]*TaskInfo{}
		}
	}
	if ev := next(); ev[0] != nil || ev[1].ID != "t1" {
		t.Fatalf("first event %+v; want t1 added", ev)
	}
	put(pre+"tasks/c1/t1", `{"taskArn":"`+taskARN+`","containerInstanceArn":"`+instARN+`","desiredStatus":"STOPPED","lastStatus":"RUNNING"}`)
	if ev := next(); ev[0] == nil || ev[0].Desired != "RUNNING" || ev[1].Desired != "STOPPED" {
		t.Fatalf("update event %+v", ev)
	}
	put(pre+"instances/c1/i1", `{"containerInstanceArn":"`+instARN+`","agentConnected":false}`)
	if _, err := st.Txn(ctx, nil, []store.Op{{Key: pre + "tasks/c1/t1", Delete: true}}); err != nil {
		t.Fatal(err)
	}
	if ev := next(); ev[1] != nil || ev[0].ID != "t1" {
		t.Fatalf("delete event %+v", ev)
	}
	for ev := range insts {
		if ev[0] != nil && ev[1] != nil && ev[0].ARN == instARN {
			if !ev[0].Connected || ev[1].Connected {
				t.Fatalf("instance event %+v %+v; want connected → disconnected", ev[0], ev[1])
			}
			break
		}
	}
}

// BenchmarkCacheSourceInstanceTasks reads the tasks of an instance with
// 10,000 of them (the managed capacity's instance in a large Fargate
// cluster): what each push reconcile of that instance costs.
func BenchmarkCacheSourceInstanceTasks(b *testing.B) {
	st, err := bolt.Open(filepath.Join(b.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const pre = "/ecs/123456789012/eu-west-1/"
	var ops []store.Op
	for i := range 10_000 {
		id := fmt.Sprintf("t%05d", i)
		ops = append(ops, store.Op{Key: pre + "tasks/c1/" + id, Value: []byte(`{"taskArn":"arn:aws:ecs:eu-west-1:123456789012:task/c1/` + id + `","containerInstanceArn":"` + instARN + `","desiredStatus":"RUNNING","lastStatus":"RUNNING"}`)})
		if len(ops) == 1000 {
			if _, err := st.Txn(b.Context(), nil, ops); err != nil {
				b.Fatal(err)
			}
			ops = nil
		}
	}
	cache := ecscache.New(st, nil)
	src := NewCacheSource(cache)
	ctx, cancel := context.WithCancel(b.Context())
	done := make(chan struct{})
	go func() { defer close(done); _ = cache.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if err := src.WaitSynced(b.Context()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if n := len(src.InstanceTasks(instARN)); n != 10_000 {
			b.Fatalf("%d tasks", n)
		}
	}
}

func TestTaskRef(t *testing.T) {
	sc, cluster, id, ok := taskRef("arn:aws:ecs:eu-west-1:123456789012:task/c1/abc")
	if !ok || sc != scope || cluster != "c1" || id != "abc" {
		t.Fatalf("taskRef = %v %q %q %v", sc, cluster, id, ok)
	}
	for _, bad := range []string{"", "arn:aws:ecs:eu-west-1:123456789012:task/c1", "arn:aws:ecs:eu-west-1:123456789012:container-instance/c1/x", "arn:aws:ecr:eu-west-1:1:task/c/i"} {
		if _, _, _, ok := taskRef(bad); ok {
			t.Errorf("taskRef(%q) accepted", bad)
		}
	}
}
