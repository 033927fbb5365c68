package ecsstore

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store"
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

func TestTaskCodec(t *testing.T) {
	for _, tk := range []*ecs.Task{
		sampleTask(testScope, "c", "0123456789abcdef0123456789abcdef"),
		sampleTask(testScope, "a/b", "x"),
		{ARN: "not-an-arn", ClusterARN: "c"},
		{ARN: testScope.TaskARN("c", ""), ClusterARN: testScope.ClusterARN("c")},
		{ARN: testScope.TaskARN("c", "t"), ClusterARN: "arn:elsewhere"},
	} {
		before := mustJSON(tk)
		stored := encodeTask(tk)
		if string(mustJSON(tk)) != string(before) {
			t.Errorf("encodeTask modified the task")
		}
		got, err := decodeTask(store.KV{Key: "k", Value: stored})
		if err != nil {
			t.Fatal(err)
		}
		want, err := decodeTask(store.KV{Key: "k", Value: before}) // as stored before
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip of %s:\n got  %+v\n want %+v", tk.ARN, got, want)
		}
		if !reflect.DeepEqual(got, decodePlain(t, before)) {
			t.Errorf("%s: not what the plain JSON decodes to", tk.ARN)
		}
		// What the controller reads of a stored task is all there.
		type ctl struct {
			Instance   string    `json:"containerInstanceArn"`
			Desired    string    `json:"desiredStatus"`
			Last       string    `json:"lastStatus"`
			StoppedAt  time.Time `json:"stoppedAt"`
			Definition string    `json:"taskDefinitionArn"`
		}
		var a, b ctl
		if json.Unmarshal(stored, &a) != nil || json.Unmarshal(before, &b) != nil || a != b {
			t.Errorf("%s: the controller's fields differ: %+v, %+v", tk.ARN, a, b)
		}
	}
	tk := sampleTask(testScope, "c", "0123456789abcdef0123456789abcdef")
	tk.Containers = tk.Containers[:1]
	stored, plain := encodeTask(tk), mustJSON(tk)
	// Saved: the cluster ARN, the container's task ARN and ARN prefix.
	saved := len(tk.ClusterARN) + len(tk.ARN) + len(tk.Containers[0].ContainerARN) - len("/c-1")
	if strings.Contains(string(stored), tk.ClusterARN) || strings.Count(string(stored), tk.ARN) != 1 || len(plain)-len(stored) != saved {
		t.Errorf("stored form %d bytes (plain JSON %d): %s", len(stored), len(plain), stored)
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
