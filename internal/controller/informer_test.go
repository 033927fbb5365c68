package controller

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
)

func TestInformerListsThenWatches(t *testing.T) {
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
	put(pre+"clusters/c1", `{"status":"ACTIVE"}`)
	put(pre+"instances/c1/i1", `{"containerInstanceArn":"`+instARN+`","id":"i1","agentConnected":true}`)
	put(pre+"managed-instances/c1", `{"containerInstanceArn":"arn:m","id":"m"}`)
	put(pre+"tasks/c1/t1", `{"containerInstanceArn":"`+instARN+`","desiredStatus":"RUNNING","lastStatus":"PENDING"}`)
	put(pre+"run-tokens/c1/tok", `{}`)

	in := NewInformer(st, nil)
	tasks := make(chan [2]*TaskInfo, 16)
	insts := make(chan [2]*InstanceInfo, 16)
	in.Subscribe(Handlers{
		Task:     func(old, cur *TaskInfo) { tasks <- [2]*TaskInfo{old, cur} },
		Instance: func(old, cur *InstanceInfo) { insts <- [2]*InstanceInfo{old, cur} },
	})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = in.Run(rctx) }()
	defer func() { cancel(); <-done }()
	if err := in.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	if ts := in.InstanceTasks(instARN); len(ts) != 1 || ts[0].ID != "t1" || ts[0].Desired != "RUNNING" || ts[0].Scope != scope {
		t.Fatalf("InstanceTasks = %+v", ts)
	}
	if c, ok := in.Cluster(ClusterKey(scope, "c1")); !ok || !c.Active {
		t.Fatalf("Cluster = %+v, %v", c, ok)
	}
	if m, ok := in.ManagedInstance(ClusterKey(scope, "c1")); !ok || m.ARN != "arn:m" || !m.Managed {
		t.Fatalf("ManagedInstance = %+v, %v", m, ok)
	}
	if n, i := in.Stats(); n != 1 || i != 2 {
		t.Fatalf("Stats = %d tasks, %d instances; want 1, 2 (run tokens are not tasks)", n, i)
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
	put(pre+"tasks/c1/t1", `{"containerInstanceArn":"`+instARN+`","desiredStatus":"STOPPED","lastStatus":"RUNNING"}`)
	if ev := next(); ev[0] == nil || ev[0].Desired != "RUNNING" || ev[1].Desired != "STOPPED" {
		t.Fatalf("update event %+v", ev)
	}
	if _, err := st.Txn(ctx, nil, []store.Op{{Key: pre + "tasks/c1/t1", Delete: true}, {Key: pre + "instances/c1/i1", Delete: true}}); err != nil {
		t.Fatal(err)
	}
	if ev := next(); ev[1] != nil || ev[0].ID != "t1" {
		t.Fatalf("delete event %+v", ev)
	}
	for ev := range insts {
		if ev[1] == nil {
			if ev[0].ARN != instARN {
				t.Fatalf("instance delete event for %+v", ev[0])
			}
			break
		}
	}
	if len(in.InstanceTasks(instARN)) != 0 {
		t.Fatal("a deleted task is still on its instance")
	}
	if _, ok := in.Instance(instARN); ok {
		t.Fatal("a deleted instance is still known")
	}
}
