package ecsstore

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

func sampleTask(sc ecs.Scope, cluster, id string) *ecs.Task {
	arn := sc.TaskARN(cluster, id)
	exit := 3
	return &ecs.Task{
		ARN: arn, ID: id, ClusterARN: sc.ClusterARN(cluster), TaskDefinitionARN: sc.TaskDefinitionARN("web", 4),
		ContainerInstanceARN: sc.ContainerInstanceARN(cluster, "0123"), LaunchType: ecs.LaunchEC2, Group: "family:web",
		LastStatus: ecs.TaskStopped, DesiredStatus: ecs.TaskStopped, StoppedAt: time.Unix(1700000000, 5).UTC(),
		Containers: []ecs.Container{
			{ContainerARN: sc.ContainerARN(cluster, id, "c-1"), TaskARN: arn, Name: "app", LastStatus: ecs.ContainerStopped, ExitCode: &exit,
				NetworkBindings: []ecs.NetworkBinding{{HostPort: 8080, ContainerPort: 80}}},
			{ContainerARN: "arn:aws:ecs:eu-west-1:123456789012:container/other/x/c-2", TaskARN: "arn:other", Name: "odd"},
		},
		Attachments: []ecs.Attachment{},
	}
}

// TestTaskCodec: a task comes back whole from its stored form, which
// leaves out what the task's ARN says; the header decodes to the task's
// own fields.
func TestTaskCodec(t *testing.T) {
	for _, tk := range []*ecs.Task{
		sampleTask(testScope, "c", "0123456789abcdef0123456789abcdef"),
		sampleTask(testScope, "a/b", "x"),
		{ARN: "not-an-arn", ClusterARN: "c"},
		{ARN: testScope.TaskARN("c", ""), ClusterARN: testScope.ClusterARN("c")},
		{ARN: testScope.TaskARN("c", "t"), ClusterARN: "arn:elsewhere"},
	} {
		before := storeutil.MustJSON(tk)
		stored := encodeTask(tk)
		if string(storeutil.MustJSON(tk)) != string(before) {
			t.Errorf("encodeTask modified the task")
		}
		got, err := decodeTask(store.KV{Key: "k", Value: stored})
		if err != nil {
			t.Fatal(err)
		}
		// The task itself, normalised through the domain's JSON (times,
		// the derived ID).
		if want := decodePlain(t, before); !reflect.DeepEqual(got, want) {
			t.Errorf("round trip of %s:\n got  %+v\n want %+v", tk.ARN, got, want)
		}
		h, err := DecodeTaskHeader(store.KV{Key: "k", Value: stored})
		if err != nil {
			t.Fatal(err)
		}
		want := TaskHeader{
			ARN: got.ARN, ContainerInstanceARN: got.ContainerInstanceARN, LaunchType: got.LaunchType, LastStatus: got.LastStatus,
			DesiredStatus: got.DesiredStatus, StoppedAt: got.StoppedAt, StoppedReason: got.StoppedReason, Group: got.Group,
			StartedBy: got.StartedBy, ID: got.ID,
		}
		if h != want {
			t.Errorf("%s: header %+v, want %+v", tk.ARN, h, want)
		}
	}
	tk := sampleTask(testScope, "c", "0123456789abcdef0123456789abcdef")
	tk.Containers = tk.Containers[:1]
	stored := string(encodeTask(tk))
	// Not stored: the cluster ARN, the container's task ARN and the
	// container ARN's prefix.
	if strings.Contains(stored, tk.ClusterARN) || strings.Count(stored, tk.ARN) != 1 || !strings.Contains(stored, `"containerArn":"/c-1"`) {
		t.Errorf("stored form %d bytes (domain JSON %d): %s", len(stored), len(storeutil.MustJSON(tk)), stored)
	}
}

func decodePlain(t *testing.T, b []byte) *ecs.Task {
	t.Helper()
	var tk ecs.Task
	if err := json.Unmarshal(b, &tk); err != nil {
		t.Fatal(err)
	}
	return &tk
}

// TestSharedTasks: readers that share decoded tasks see each change.
func TestSharedTasks(t *testing.T) {
	ctx := t.Context()
	r := New(openBolt(t))
	newCluster(t, r, 1024)
	if _, err := placeOne(ctx, r, "t1", "g", ecs.TaskResources{CPU: 1, Memory: 1}); err != nil {
		t.Fatal(err)
	}
	for _, status := range []string{ecs.TaskPending, ecs.TaskRunning, ecs.TaskStopped} {
		if status != ecs.TaskPending {
			setStatus(t, r, "t1", status)
		}
		for range 2 {
			one, err := r.SharedTask(ctx, testScope, "c", "t1")
			if err != nil {
				t.Fatal(err)
			}
			all, err := r.Tasks(ctx, testScope, "c")
			if err != nil || len(all) != 1 {
				t.Fatalf("Tasks: %v %v", all, err)
			}
			own, err := r.Task(ctx, testScope, "c", "t1")
			if err != nil {
				t.Fatal(err)
			}
			if one.LastStatus != status || all[0].LastStatus != status || !reflect.DeepEqual(one, own) || one.ClusterARN != testScope.ClusterARN("c") {
				t.Fatalf("after %s: shared %+v, listed %+v, read %+v", status, one, all[0], own)
			}
		}
	}
	if err := r.DeleteTask(ctx, testScope, "c", "t1"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SharedTask(ctx, testScope, "c", "t1"); err == nil {
		t.Fatal("deleted task still read")
	}
	// Nor is it kept decoded: deleted tasks do not pile up in memory.
	if n := len(r.tasks.cur) + len(r.tasks.old); n != 0 {
		t.Fatalf("%d decoded tasks cached after the deletion", n)
	}
}

// TestSharedTaskDefinitions: a definition is decoded once per change of
// its record and shared; a change (deregistration) is seen at once.
func TestSharedTaskDefinitions(t *testing.T) {
	ctx := t.Context()
	r := New(openBolt(t))
	td := goldenTaskDefinition()
	if err := r.RegisterTaskDefinition(ctx, testScope, td, nil, func(rev int) {
		td.Revision, td.ARN = rev, testScope.TaskDefinitionARN(td.Family, rev)
	}); err != nil {
		t.Fatal(err)
	}
	ref := ecs.TaskDefinitionRef{Family: td.Family, Revision: td.Revision}
	a, err := r.TaskDefinition(ctx, testScope, ref)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.TaskDefinition(ctx, testScope, ref)
	if err != nil || a != b || !reflect.DeepEqual(a, td) {
		t.Fatalf("second read: %p %v, first %p; equal to the registered: %v", b, err, a, reflect.DeepEqual(a, td))
	}
	if _, err := r.DeregisterTaskDefinition(ctx, testScope, td.Family, td.Revision, time.Now()); err != nil {
		t.Fatal(err)
	}
	c, err := r.TaskDefinition(ctx, testScope, ref)
	if err != nil || c == a || c.Status != ecs.TaskDefInactive || a.Status != ecs.TaskDefActive {
		t.Fatalf("after deregistration: %+v %v (the shared one: %s)", c, err, a.Status)
	}
}
