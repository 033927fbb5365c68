package ecsstore

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

// BenchmarkRecordCodec encodes and decodes the records of the kinds a
// placement commit and the state cache handle most (a task as RunTask
// writes it, a registered instance, a task definition), and reports each
// against its peer measured in the same run: the domain value's own JSON
// (what storing the domain struct, as berth did before the records had
// types of their own, costs; decoded into the plain types, without the
// domain's UnmarshalJSON), and for the task header the full decode.
func BenchmarkRecordCodec(b *testing.B) {
	task := benchTask()
	inst := goldenInstance()
	td := goldenTaskDefinition()
	taskKV := store.KV{Key: "k", Value: encodeTask(task)}
	instKV := store.KV{Key: "k", Value: encodeInstance(inst)}
	tdKV := store.KV{Key: "k", Value: encodeTaskDefinition(td)}
	taskJSON, instJSON, tdJSON := storeutil.MustJSON(task), storeutil.MustJSON(inst), storeutil.MustJSON(td)
	for _, c := range []struct {
		name      string
		op, peer  func() error
		peerLabel string
	}{
		{"task/encode", func() error { encodeTask(task); return nil }, func() error { _, err := json.Marshal(task); return err }, "x-domain-json"},
		{"task/decode", func() error { _, err := decodeTask(taskKV); return err }, func() error { return json.Unmarshal(taskJSON, new(plainTask)) }, "x-domain-json"},
		{"task/header", func() error { _, err := DecodeTaskHeader(taskKV); return err }, func() error { _, err := decodeTask(taskKV); return err }, "x-full-decode"},
		{"instance/encode", func() error { encodeInstance(inst); return nil }, func() error { _, err := json.Marshal(inst); return err }, "x-domain-json"},
		{"instance/decode", func() error { _, err := decodeInstance(instKV); return err }, func() error { return json.Unmarshal(instJSON, new(plainInstance)) }, "x-domain-json"},
		{"task-definition/encode", func() error { encodeTaskDefinition(td); return nil }, func() error { _, err := json.Marshal(td); return err }, "x-domain-json"},
		{"task-definition/decode", func() error { _, err := decodeTaskDefinition(tdKV); return err }, func() error { return json.Unmarshal(tdJSON, new(ecs.TaskDefinition)) }, "x-domain-json"},
	} {
		// The two alternate, call by call, so that a busy machine slows
		// both alike; ns/op is the pair's.
		b.Run(c.name, func(b *testing.B) {
			var ours, peer time.Duration
			for b.Loop() {
				t0 := time.Now()
				if err := c.op(); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := c.peer(); err != nil {
					b.Fatal(err)
				}
				ours, peer = ours+t1.Sub(t0), peer+time.Since(t1)
			}
			b.ReportMetric(float64(ours.Nanoseconds())/float64(b.N), "record-ns/op")
			b.ReportMetric(float64(peer.Nanoseconds())/float64(b.N), "peer-ns/op")
			b.ReportMetric(float64(ours)/float64(peer), c.peerLabel)
		})
	}
	b.Run("task/size", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(float64(len(taskKV.Value)), "stored-bytes")
		b.ReportMetric(float64(len(taskJSON)), "domain-json-bytes")
	})
}

// plainTask and plainInstance are the domain types without their
// UnmarshalJSON methods (which have json.Unmarshal scan the input twice):
// the fair peer of a record decode.
type (
	plainTask     ecs.Task
	plainInstance ecs.ContainerInstance
)

// benchTask is a task as RunTask writes it (one container, a host port),
// before an agent reports on it.
func benchTask() *ecs.Task {
	const id = "0192f3a4b5c6d7e8f90a1b2c3d4e5f60"
	sc := goldenScope
	arn := sc.TaskARN("bench", id)
	return &ecs.Task{
		ARN: arn, ID: id, ClusterARN: sc.ClusterARN("bench"), TaskDefinitionARN: sc.TaskDefinitionARN("bench", 1),
		ContainerInstanceARN: sc.ContainerInstanceARN("bench", "5f0c1e7ad2b94c3f8e6a1b2c3d4e5f60"), LaunchType: ecs.LaunchEC2,
		Group: "family:bench", LastStatus: ecs.TaskProvisioning, DesiredStatus: ecs.TaskRunning, CPU: "64", Memory: "128",
		Containers: []ecs.Container{{
			ContainerARN: sc.ContainerARN("bench", id, "8c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e"), TaskARN: arn, Name: "app", Image: "busybox",
			LastStatus: ecs.ContainerPending, NetworkBindings: []ecs.NetworkBinding{}, NetworkInterfaces: []ecs.NetworkInterface{},
			CPU: "64", Memory: "128", Essential: true,
		}},
		Overrides:   ecs.TaskOverride{ContainerOverrides: []ecs.ContainerOverride{}, InferenceAcceleratorOverrides: []ecs.InferenceAcceleratorOverride{}},
		Attachments: []ecs.Attachment{}, CreatedAt: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), Version: 1,
		AvailabilityZone: "eu-west-1a",
	}
}
