package server

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/sdkhttp"
)

// BenchmarkHeapAfterTasksDeleted runs 4,000 fake Fargate tasks (16
// clients), stops them all, and reports the live heap per task: once they
// are STOPPED and deleted from the API (task retention 1s), and once the
// managed agent's runner has cleaned them up (after its 2-minute
// CleanupAfter) and keeps only what it remembers of finished tasks. Slow
// (about three minutes); run it alone:
//
//	go test -run '^$' -bench HeapAfterTasksDeleted -benchtime 1x ./internal/server
func BenchmarkHeapAfterTasksDeleted(b *testing.B) {
	const clients, calls, perCall = 16, 25, 10
	const tasks = clients * calls * perCall
	for range b.N {
		cfg := Defaults()
		cfg.Listen, cfg.DataDir, cfg.Driver, cfg.TaskRetention = "127.0.0.1:0", b.TempDir(), "fake", "1s"
		srv, err := New(cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		done := make(chan error, 1)
		go func() { done <- srv.Run(ctx) }()
		c := ecs.NewFromConfig(aws.Config{
			Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
			BaseEndpoint: aws.String("http://" + srv.Addr()), HTTPClient: sdkhttp.Client(time.Minute),
		})
		if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("heap")}); err != nil {
			b.Fatal(err)
		}
		if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String("heap"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
			RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
			ContainerDefinitions:    []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("busybox"), Command: []string{"sleep", "infinity"}}},
		}); err != nil {
			b.Fatal(err)
		}
		netcfg := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
		run := func(n int32) []string {
			out, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("heap"), TaskDefinition: aws.String("heap"),
				LaunchType: types.LaunchTypeFargate, NetworkConfiguration: netcfg, Count: aws.Int32(n)})
			if err != nil {
				b.Fatal(err)
			}
			var arns []string
			for _, tk := range out.Tasks {
				arns = append(arns, aws.ToString(tk.TaskArn))
			}
			return arns
		}
		// One task first, so the managed agent exists before the baseline.
		first := run(1)
		waitCount(b, c, "RUNNING", 1)
		fresh := sampleMemory()
		var mu sync.Mutex
		arns := first
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				for range calls {
					got := run(perCall)
					mu.Lock()
					arns = append(arns, got...)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		waitCount(b, c, "RUNNING", tasks+1)
		next := make(chan string)
		for range clients {
			wg.Go(func() {
				for arn := range next {
					if _, err := c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("heap"), Task: aws.String(arn)}); err != nil {
						b.Error(err)
					}
				}
			})
		}
		for _, arn := range arns {
			next <- arn
		}
		close(next)
		wg.Wait()
		waitCount(b, c, "STOPPED", 0) // stopped and deleted from the API
		deleted := sampleMemory()
		// The runner removes stopped tasks' containers after CleanupAfter.
		waitNoContainers(b, srv, 5*time.Minute)
		cleaned := sampleMemory()
		if path := os.Getenv("BERTH_HEAP_PROFILE"); path != "" {
			if f, err := os.Create(path); err == nil {
				_ = pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric((float64(ms.HeapAlloc)-float64(fresh.alloc))/tasks, "live-B/task-cleaned")
		per := func(m memSample) float64 { return (float64(m.heap) - float64(fresh.heap)) / tasks }
		b.ReportMetric(float64(fresh.heap)/1e6, "fresh-heap-MB")
		b.ReportMetric(per(deleted), "heap-B/task-deleted")
		b.ReportMetric(per(cleaned), "heap-B/task-cleaned")
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}
}

// waitNoContainers waits until the managed capacity's driver has no
// container left: every task's runner has cleaned it up.
func waitNoContainers(b *testing.B, srv *Server, timeout time.Duration) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for {
		states, err := srv.runtime.driver.ListContainers(context.Background(), nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(states) == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d containers left after %v", len(states), timeout)
		}
		time.Sleep(time.Second)
	}
}

// waitCount waits until ListTasks of desired status counts want tasks
// (RUNNING: running ones; STOPPED: stopped ones not yet deleted).
func waitCount(b *testing.B, c *ecs.Client, desired string, want int) {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		n := 0
		var token *string
		for {
			out, err := c.ListTasks(context.Background(), &ecs.ListTasksInput{Cluster: aws.String("heap"), DesiredStatus: types.DesiredStatus(desired), NextToken: token, MaxResults: aws.Int32(100)})
			if err != nil {
				b.Fatal(err)
			}
			n += len(out.TaskArns)
			if token = out.NextToken; token == nil {
				break
			}
		}
		if desired == "RUNNING" {
			out, err := c.DescribeClusters(context.Background(), &ecs.DescribeClustersInput{Clusters: []string{"heap"}})
			if err != nil {
				b.Fatal(err)
			}
			n = int(out.Clusters[0].RunningTasksCount)
		}
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d %s tasks, want %d", n, desired, want)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
