package ecsapi

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
)

// nomadC1MPlacementsPerSecond is the rate HashiCorp published for Nomad's
// "C1M" challenge (1,000,000 containers on 5,000 hosts in under five
// minutes: about 3,750 placements per second). It is quoted, not measured.
const nomadC1MPlacementsPerSecond = 3750

// placementBench is a cluster of fake container instances on a real
// (bbolt, fsync'd) store, driven through the RunTask handler: validation,
// placement (internal/scheduler) and the compare-and-swap commit of tasks
// and reservations, everything but HTTP.
type placementBench struct {
	core core
	api  *API
	call *awsproto.Call
}

func newPlacementBench(b testing.TB, instances int) *placementBench {
	b.Helper()
	st, err := bolt.Open(filepath.Join(b.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return newPlacementBenchOn(b, st, instances)
}

// newPlacementBenchOn is newPlacementBench on a given store.
func newPlacementBenchOn(b testing.TB, st store.Store, instances int) *placementBench {
	b.Helper()
	c := startCore(b, st, ecscp.ManagedCapacity{})
	repo := c.repo
	a := newAPI(c)
	call := &awsproto.Call{Region: "us-east-1", Account: "123456789012"}
	ctx := context.Background()
	if _, err := a.createCluster(ctx, call, &createClusterIn{ClusterName: "bench"}); err != nil {
		b.Fatal(err)
	}
	sc := a.scope(call)
	cl, err := repo.ActiveCluster(ctx, sc, "bench")
	if err != nil {
		b.Fatal(err)
	}
	for i := range instances {
		ci, err := ecs.NewContainerInstance(sc, cl, ecs.InstanceRegistration{
			EC2InstanceID: fmt.Sprintf("i-%017x", i), InstanceType: "m5.xlarge", AvailabilityZone: fmt.Sprintf("us-east-1%c", 'a'+i%3),
			CPU: 4096, Memory: 16384,
		}, fmt.Sprintf("%032x", i), time.Now())
		if err != nil {
			b.Fatal(err)
		}
		if err := repo.RegisterInstance(ctx, sc, ci, nil); err != nil {
			b.Fatal(err)
		}
	}
	mem := 128
	td := ecs.TaskDefinition{
		Family: "bench", NetworkMode: ecs.NetworkBridge, RequiresCompatibilities: []string{ecs.LaunchEC2},
		ContainerDefinitions: []ecs.ContainerDefinition{{Name: "app", Image: "busybox", CPU: 64, Memory: &mem}},
	}
	if _, err := a.registerTaskDefinition(ctx, call, &registerTaskDefinitionIn{TaskDefinition: td}); err != nil {
		b.Fatal(err)
	}
	// The setup is done once the state cache has it (it decodes the
	// thousand instance records after they were written).
	if err := c.cache.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	return &placementBench{core: c, api: a, call: call}
}

// place runs tasks RunTask calls of count 10 with the strategy, from
// clients goroutines, and reports placements per second.
func (pb *placementBench) place(b *testing.B, tasks, clients int, strategy []ecs.PlacementStrategy) {
	b.Helper()
	ctx := context.Background()
	calls := tasks / ecs.MaxRunCount
	var next, placed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			count := ecs.MaxRunCount
			for next.Add(1) <= int64(calls) {
				out, err := pb.api.runTask(ctx, pb.call, &runTaskIn{
					Cluster: "bench", TaskDefinition: "bench", LaunchType: ecs.LaunchEC2, Count: &count, PlacementStrategy: strategy,
				})
				if err != nil {
					b.Error(err)
					return
				}
				placed.Add(int64(len(out.(*tasksResult).Tasks)))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if placed.Load() != int64(tasks) {
		b.Fatalf("placed %d of %d tasks", placed.Load(), tasks)
	}
	rate := float64(tasks) / elapsed.Seconds()
	b.ReportMetric(rate, "placements/s")
	b.ReportMetric(rate/nomadC1MPlacementsPerSecond, "x-nomad-c1m")
	b.ReportMetric(float64(elapsed.Microseconds())/float64(calls), "µs/RunTask")
}

// BenchmarkPlace10kTasksOn1kInstances places 10,000 tasks (1,000 RunTask
// calls of 10) on 1,000 instances through the RunTask handler and the
// store, with binpack and spread, from one client and from eight.
func BenchmarkPlace10kTasksOn1kInstances(b *testing.B) {
	for _, s := range []struct {
		name     string
		strategy []ecs.PlacementStrategy
	}{
		{"binpack", []ecs.PlacementStrategy{{Type: ecs.StrategyBinpack, Field: "memory"}}},
		{"spread", []ecs.PlacementStrategy{{Type: ecs.StrategySpread, Field: "attribute:ecs.availability-zone"}, {Type: ecs.StrategySpread, Field: "instanceId"}}},
	} {
		for _, clients := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/clients=%d", s.name, clients), func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					pb := newPlacementBench(b, 1000)
					b.StartTimer()
					pb.place(b, 10_000, clients, s.strategy)
				}
			})
		}
	}
}

// BenchmarkDescribeTasks describes 100 tasks (of 1,000 on 100 instances)
// per call through the DescribeTasks handler, as a client polling their
// status does; the tasks do not change between calls.
func BenchmarkDescribeTasks(b *testing.B) {
	pb := newPlacementBench(b, 100)
	ctx := context.Background()
	count := ecs.MaxRunCount
	var arns []string
	for range 100 {
		out, err := pb.api.runTask(ctx, pb.call, &runTaskIn{Cluster: "bench", TaskDefinition: "bench", LaunchType: ecs.LaunchEC2, Count: &count})
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range out.(*tasksResult).Tasks {
			arns = append(arns, t.TaskARN)
		}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := (i * 100) % len(arns)
		out, err := pb.api.describeTasks(ctx, pb.call, &describeTasksIn{Cluster: "bench", Tasks: arns[start : start+100]})
		if err != nil {
			b.Fatal(err)
		}
		if n := len(out.(*tasksResult).Tasks); n != 100 {
			b.Fatalf("described %d tasks", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/call")
}
