package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
	"github.com/berth-dev/berth/internal/sdkhttp"
)

// BenchmarkServiceSteadyState measures the time for a service to reach
// steady state from 0 to N tasks against starting the same N tasks with
// RunTask (10 a call, 4 callers) on a fresh server of the same run, and
// reports the ratio. fake: 1,000 tasks on the fake driver; docker: 20
// tasks of a busybox image. Run it alone:
//
//	go test -run '^$' -bench ServiceSteadyState -benchtime 1x ./internal/server
func BenchmarkServiceSteadyState(b *testing.B) {
	for _, c := range []struct {
		driver string
		tasks  int
	}{{"fake", 1000}, {"docker", 20}} {
		b.Run(fmt.Sprintf("%s-%d", c.driver, c.tasks), func(b *testing.B) {
			image := "busybox"
			if c.driver == "docker" {
				if os.Getenv("CI") != "true" && !dockerAvailable() {
					b.Skip("SKIP: no Docker")
				}
				d := dockertest.New(b)
				image = dockertest.Busybox(b, d)
			}
			for range b.N {
				run := serviceBenchServer(b, c.driver, image, func(ctx context.Context, cl *ecs.Client, srv *Server) time.Duration {
					start := time.Now()
					runTasks(b, ctx, cl, c.tasks)
					waitClusterRunning(b, cl, c.tasks)
					return time.Since(start)
				})
				svc := serviceBenchServer(b, c.driver, image, func(ctx context.Context, cl *ecs.Client, srv *Server) time.Duration {
					start := time.Now()
					if _, err := cl.CreateService(ctx, &ecs.CreateServiceInput{
						Cluster: aws.String("bench"), ServiceName: aws.String("web"), TaskDefinition: aws.String("bench"),
						DesiredCount: aws.Int32(int32(c.tasks)), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: benchNet,
					}); err != nil {
						b.Fatal(err)
					}
					waitServiceSteady(b, cl, c.tasks)
					return time.Since(start)
				})
				b.ReportMetric(run.Seconds(), "runtask-s")
				b.ReportMetric(svc.Seconds(), "service-s")
				b.ReportMetric(svc.Seconds()/run.Seconds(), "service/runtask")
			}
		})
	}
}

// BenchmarkServiceIdle measures what 200 steady services cost when
// nothing changes: the store revisions written and the process CPU time
// in a 5 s idle window (the scheduler reacts to changes, it polls
// nothing), against the same server with no service in the same run.
func BenchmarkServiceIdle(b *testing.B) {
	const services = 200
	for range b.N {
		var base, loaded idleCost
		serviceBenchServer(b, "fake", "busybox", func(ctx context.Context, cl *ecs.Client, srv *Server) time.Duration {
			runTasks(b, ctx, cl, services)
			waitClusterRunning(b, cl, services)
			base = measureIdle(b, ctx, srv, 5*time.Second)
			return 0
		})
		serviceBenchServer(b, "fake", "busybox", func(ctx context.Context, cl *ecs.Client, srv *Server) time.Duration {
			for i := range services {
				if _, err := cl.CreateService(ctx, &ecs.CreateServiceInput{
					Cluster: aws.String("bench"), ServiceName: aws.String(fmt.Sprintf("s%03d", i)), TaskDefinition: aws.String("bench"),
					DesiredCount: aws.Int32(1), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: benchNet,
				}); err != nil {
					b.Fatal(err)
				}
			}
			waitClusterRunning(b, cl, services)
			waitServicesSteady(b, ctx, cl, services)
			loaded = measureIdle(b, ctx, srv, 5*time.Second)
			return 0
		})
		b.ReportMetric(float64(loaded.revisions), "revisions-idle")
		b.ReportMetric(loaded.cpu.Seconds()*1000, "cpu-ms-idle-200-services")
		b.ReportMetric(base.cpu.Seconds()*1000, "cpu-ms-idle-200-tasks")
		b.ReportMetric(float64(loaded.cpu-base.cpu)/float64(time.Microsecond)/services/5, "extra-cpu-µs/service/s")
	}
}

// waitServicesSteady waits until services s000..s<n-1> of cluster bench
// each run their desired count with a COMPLETED deployment (their last
// status writes are done).
func waitServicesSteady(b *testing.B, ctx context.Context, cl *ecs.Client, n int) {
	deadline := time.Now().Add(2 * time.Minute)
	for i := 0; i < n; {
		names := []string{}
		for j := i; j < min(i+10, n); j++ {
			names = append(names, fmt.Sprintf("s%03d", j))
		}
		out, err := cl.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("bench"), Services: names})
		if err != nil {
			b.Fatal(err)
		}
		steady := len(out.Services) == len(names)
		for _, sv := range out.Services {
			steady = steady && sv.RunningCount == sv.DesiredCount && sv.PendingCount == 0 &&
				len(sv.Deployments) == 1 && sv.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted
		}
		if steady {
			i += len(names)
			continue
		}
		if time.Now().After(deadline) {
			b.Fatalf("services %v not steady", names)
		}
		time.Sleep(100 * time.Millisecond) // poll interval
	}
}

type idleCost struct {
	revisions int64
	cpu       time.Duration
}

// measureIdle measures s's store revisions and the process CPU over window.
func measureIdle(b *testing.B, ctx context.Context, s *Server, window time.Duration) idleCost {
	rev0, err := s.store.Revision(ctx)
	if err != nil {
		b.Fatal(err)
	}
	cpu0 := processCPU()
	time.Sleep(window)
	rev1, _ := s.store.Revision(ctx)
	return idleCost{revisions: rev1 - rev0, cpu: processCPU() - cpu0}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var benchNet = &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}

// serviceBenchServer runs fn against a fresh server with a cluster and a
// task definition, then stops the server (and its tasks) and returns
// fn's duration.
func serviceBenchServer(b *testing.B, drv, image string, fn func(context.Context, *ecs.Client, *Server) time.Duration) time.Duration {
	b.Helper()
	cfg := Defaults()
	cfg.Listen, cfg.DataDir, cfg.Driver = "127.0.0.1:0", b.TempDir(), drv
	srv, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() {
		cl := benchClient(srv)
		// Stop every task so no container outlives the benchmark.
		if arns, err := cl.ListTasks(context.Background(), &ecs.ListTasksInput{Cluster: aws.String("bench")}); err == nil && drv == "docker" {
			svcs, _ := cl.ListServices(context.Background(), &ecs.ListServicesInput{Cluster: aws.String("bench")})
			for _, s := range svcs.ServiceArns {
				_, _ = cl.DeleteService(context.Background(), &ecs.DeleteServiceInput{Cluster: aws.String("bench"), Service: aws.String(s), Force: aws.Bool(true)})
			}
			for _, a := range arns.TaskArns {
				_, _ = cl.StopTask(context.Background(), &ecs.StopTaskInput{Cluster: aws.String("bench"), Task: aws.String(a)})
			}
			waitClusterRunning(b, cl, 0)
		}
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	cl := benchClient(srv)
	if _, err := cl.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	if _, err := cl.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("bench"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(image),
			Command: []string{"sleep", "3600"}, StopTimeout: aws.Int32(2)}},
	}); err != nil {
		b.Fatal(err)
	}
	return fn(ctx, cl, srv)
}

func benchClient(srv *Server) *ecs.Client {
	return ecs.NewFromConfig(aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://" + srv.Addr()), HTTPClient: sdkhttp.Client(time.Minute),
	})
}

// runTasks starts n tasks with RunTask, 10 a call, from 4 callers.
func runTasks(b *testing.B, ctx context.Context, cl *ecs.Client, n int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(10) - 10
				if i >= int64(n) {
					return
				}
				count := min(10, int64(n)-i)
				out, err := cl.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("bench"), TaskDefinition: aws.String("bench"),
					LaunchType: types.LaunchTypeFargate, NetworkConfiguration: benchNet, Count: aws.Int32(int32(count))})
				if err != nil || len(out.Tasks) != int(count) {
					b.Errorf("RunTask: %v %v", out, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func waitClusterRunning(b *testing.B, cl *ecs.Client, want int) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for {
		out, err := cl.DescribeClusters(context.Background(), &ecs.DescribeClustersInput{Clusters: []string{"bench"}})
		if err != nil {
			b.Fatal(err)
		}
		c := out.Clusters[0]
		if int(c.RunningTasksCount) == want && c.PendingTasksCount == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("running %d pending %d, want %d", c.RunningTasksCount, c.PendingTasksCount, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitServiceSteady(b *testing.B, cl *ecs.Client, want int) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for {
		out, err := cl.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String("bench"), Services: []string{"web"}})
		if err != nil {
			b.Fatal(err)
		}
		s := out.Services[0]
		if int(s.RunningCount) == want && len(s.Deployments) == 1 && s.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("running %d, want %d", s.RunningCount, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func dockerAvailable() bool {
	_, err := os.Stat("/var/run/docker.sock")
	return err == nil
}
