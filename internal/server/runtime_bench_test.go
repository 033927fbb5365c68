package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	becs "github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/sdkhttp"
)

func rssBytes() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

type memSample struct{ heap, alloc, stack, rss uint64 }

func sampleMemory() memSample {
	for range 3 {
		runtime.GC()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSample{heap: ms.HeapInuse, alloc: ms.HeapAlloc, stack: ms.StackInuse, rss: rssBytes()}
}

// BenchmarkMemoryPerRunningTask runs 10,000 Fargate tasks on a server with
// the fake driver (the managed agent, its runner and the fake containers
// live in the server process, as Fargate tasks do) and reports the growth
// of the process's memory per running task. Run it alone:
//
//	go test -run '^$' -bench MemoryPerRunningTask -benchtime 1x ./internal/server
func BenchmarkMemoryPerRunningTask(b *testing.B) {
	const tasks = 10_000
	for range b.N {
		b.StopTimer()
		cfg := Defaults()
		cfg.Listen, cfg.DataDir, cfg.Driver = "127.0.0.1:0", b.TempDir(), "fake"
		srv, err := New(cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Run(ctx) }()
		c := ecs.NewFromConfig(aws.Config{
			Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
			BaseEndpoint: aws.String("http://" + srv.Addr()), HTTPClient: sdkhttp.Client(time.Minute),
		})
		if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("mem")}); err != nil {
			b.Fatal(err)
		}
		if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String("mem"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
			RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
			ContainerDefinitions:    []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("busybox"), Command: []string{"sleep", "infinity"}}},
		}); err != nil {
			b.Fatal(err)
		}
		netcfg := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
		// One task first, so the managed agent exists before the baseline.
		if _, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("mem"), TaskDefinition: aws.String("mem"), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: netcfg}); err != nil {
			b.Fatal(err)
		}
		waitRunning(b, c, 1)
		before := sampleMemory()
		b.StartTimer()
		start := time.Now()
		var next atomic.Int64
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= tasks/10 {
					out, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("mem"), TaskDefinition: aws.String("mem"), LaunchType: types.LaunchTypeFargate,
						NetworkConfiguration: netcfg, Count: aws.Int32(10)})
					if err != nil || len(out.Tasks) != 10 {
						b.Errorf("RunTask: %v %v", out, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		waitRunning(b, c, tasks+1)
		elapsed := time.Since(start)
		b.StopTimer()
		after := sampleMemory()
		if path := os.Getenv("BERTH_HEAP_PROFILE"); path != "" {
			if f, err := os.Create(path); err == nil {
				_ = pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		per := func(a, z uint64) float64 { return (float64(z) - float64(a)) / tasks }
		b.ReportMetric(per(before.heap, after.heap), "heap-B/task")
		b.ReportMetric(per(before.stack, after.stack), "stack-B/task")
		b.ReportMetric(per(before.rss, after.rss), "rss-B/task")
		b.ReportMetric(tasks/elapsed.Seconds(), "tasks-running/s")
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}
}

func waitRunning(b *testing.B, c *ecs.Client, want int32) {
	b.Helper()
	deadline := time.Now().Add(15 * time.Minute)
	for {
		out, err := c.DescribeClusters(context.Background(), &ecs.DescribeClustersInput{Clusters: []string{"mem"}})
		if err != nil {
			b.Fatal(err)
		}
		if out.Clusters[0].RunningTasksCount >= want {
			return
		}
		if time.Now().After(deadline) {
			b.Fatal(fmt.Sprintf("only %d of %d tasks running", out.Clusters[0].RunningTasksCount, want))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// BenchmarkControlPlaneMemoryPerTask places 10,000 EC2 tasks on 1,000
// container instances (registered straight into the store, no agents, so
// nothing runs them) and reports the server's memory growth per task: the
// control plane's own cost (API, store, placement view, controllers),
// without the node-side runner that Fargate tasks add to the process.
func BenchmarkControlPlaneMemoryPerTask(b *testing.B) {
	const tasks, instances = 10_000, 1_000
	for range b.N {
		b.StopTimer()
		cfg := Defaults()
		cfg.Listen, cfg.DataDir, cfg.Driver = "127.0.0.1:0", b.TempDir(), "fake"
		srv, err := New(cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Run(ctx) }()
		c := ecs.NewFromConfig(aws.Config{
			Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
			BaseEndpoint: aws.String("http://" + srv.Addr()), HTTPClient: sdkhttp.Client(time.Minute),
		})
		if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("cp")}); err != nil {
			b.Fatal(err)
		}
		repo := ecsstore.New(srv.store)
		sc := becs.Scope{Account: cfg.Account, Region: "us-east-1"}
		cl, err := repo.ActiveCluster(ctx, sc, "cp")
		if err != nil {
			b.Fatal(err)
		}
		for i := range instances {
			ci, err := becs.NewContainerInstance(sc, cl, becs.InstanceRegistration{CPU: 4096, Memory: 16384}, fmt.Sprintf("%032x", i), time.Now())
			if err != nil {
				b.Fatal(err)
			}
			if err := repo.RegisterInstance(ctx, sc, ci, nil); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String("cp"), NetworkMode: types.NetworkModeBridge, RequiresCompatibilities: []types.Compatibility{types.CompatibilityEc2},
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("busybox"), Memory: aws.Int32(128)}},
		}); err != nil {
			b.Fatal(err)
		}
		if _, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("cp"), TaskDefinition: aws.String("cp"), LaunchType: types.LaunchTypeEc2}); err != nil {
			b.Fatal(err)
		}
		before := sampleMemory()
		b.StartTimer()
		var next atomic.Int64
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= tasks/10 {
					out, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("cp"), TaskDefinition: aws.String("cp"), LaunchType: types.LaunchTypeEc2,
						Count: aws.Int32(10), PlacementStrategy: []types.PlacementStrategy{{Type: types.PlacementStrategyTypeSpread, Field: aws.String("instanceId")}}})
					if err != nil || len(out.Tasks) != 10 {
						b.Errorf("RunTask: %v %v", out, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
		after := sampleMemory()
		per := func(a, z uint64) float64 { return (float64(z) - float64(a)) / tasks }
		b.ReportMetric(per(before.heap, after.heap), "heap-B/task")
		b.ReportMetric(per(before.rss, after.rss), "rss-B/task")
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}
}
