package server

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/sdkhttp"
)

// TestFakeBurstNoFalseRuntimeFailure: with the fake driver, 16 clients burst
// RunTask and then stop everything; every acknowledged task runs and stops
// as asked, none "fails to start" because a busy driver was taken for a
// dead one (the managed agent's health check timed out behind the fake's
// lock and refused tasks with "Docker is unreachable"). Bounded: 1,600
// tasks, three minutes.
func TestFakeBurstNoFalseRuntimeFailure(t *testing.T) {
	const clients, calls, perCall = 16, 10, 10
	cfg := Defaults()
	cfg.Listen, cfg.DataDir, cfg.Driver = "127.0.0.1:0", t.TempDir(), "fake"
	srv, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()
	c := ecs.NewFromConfig(aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://" + srv.Addr()), HTTPClient: sdkhttp.Client(time.Minute),
	})
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("burst")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("burst"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions:    []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("busybox"), Command: []string{"sleep", "infinity"}}},
	}); err != nil {
		t.Fatal(err)
	}
	netcfg := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
	var mu sync.Mutex
	var arns []string
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range calls {
				out, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("burst"), TaskDefinition: aws.String("burst"),
					LaunchType: types.LaunchTypeFargate, NetworkConfiguration: netcfg, Count: aws.Int32(perCall)})
				if err != nil {
					t.Errorf("RunTask: %v", err)
					return
				}
				mu.Lock()
				for _, tk := range out.Tasks {
					arns = append(arns, aws.ToString(tk.TaskArn))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// Stop everything at once, as soon as it is acknowledged.
	next := make(chan string)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for arn := range next {
				if _, err := c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("burst"), Task: aws.String(arn)}); err != nil {
					t.Errorf("StopTask: %v", err)
				}
			}
		}()
	}
	for _, arn := range arns {
		next <- arn
	}
	close(next)
	wg.Wait()
	// Every task ends STOPPED as the user asked, none with a false reason.
	// Each check follows a change of the store's task records (a watch
	// from the current revision), not a timer.
	rev, err := srv.store.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := srv.store.Watch(ctx, "/ecs/", rev)
	if err != nil {
		t.Fatal(err)
	}
	pending := arns
	for len(pending) > 0 {
		var still []string
		for i := 0; i < len(pending); i += 100 {
			batch := pending[i:min(i+100, len(pending))]
			out, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("burst"), Tasks: batch})
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range out.Tasks {
				reason := aws.ToString(tk.StoppedReason)
				if strings.Contains(reason, "unavailable") || strings.Contains(reason, "unreachable") || tk.StopCode == types.TaskStopCodeTaskFailedToStart {
					t.Fatalf("task %s: %s %q", aws.ToString(tk.TaskArn), tk.StopCode, reason)
				}
				if aws.ToString(tk.LastStatus) != "STOPPED" {
					still = append(still, aws.ToString(tk.TaskArn))
				}
			}
		}
		pending = still
		if ctx.Err() != nil {
			t.Fatalf("%d tasks not STOPPED in time", len(pending))
		}
		if len(pending) > 0 {
			select {
			case _, ok := <-changes:
				if !ok {
					t.Fatalf("store watch ended with %d tasks not STOPPED", len(pending))
				}
			case <-ctx.Done():
			}
			for len(changes) > 0 { // a batch of changes is one check
				<-changes
			}
		}
	}
	if len(arns) != clients*calls*perCall {
		t.Fatalf("%d tasks acknowledged, want %d", len(arns), clients*calls*perCall)
	}
}
