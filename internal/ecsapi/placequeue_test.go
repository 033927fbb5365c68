package ecsapi

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
)

// TestConcurrentRunTaskBatching runs many RunTask calls at once, so that the
// cluster's placement queue commits them in batches, and checks that the
// batches behave like the calls run one by one: no instance is overcommitted,
// calls sharing a client token all get the tasks of the one that placed
// them, and a call that fails does not fail the others.
func TestConcurrentRunTaskBatching(t *testing.T) {
	pb := newPlacementBench(t, 3) // 3 × 64 tasks of 64 CPU units
	ctx := context.Background()
	sc := pb.api.scope(pb.call)
	const plain, tokened, failing = 20, 4, 4
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		placed   = map[string]bool{}
		tokenRes [][]string
		start    = make(chan struct{})
	)
	run := func(token string) {
		defer wg.Done()
		<-start
		count := ecs.MaxRunCount
		out, err := pb.api.runTask(ctx, pb.call, &runTaskIn{Cluster: "bench", TaskDefinition: "bench", LaunchType: ecs.LaunchEC2, Count: &count, ClientToken: token})
		if err != nil {
			t.Error(err)
			return
		}
		var arns []string
		for _, task := range out.(*tasksResult).Tasks {
			arns = append(arns, task.TaskARN)
		}
		slices.Sort(arns)
		mu.Lock()
		defer mu.Unlock()
		for _, a := range arns {
			placed[a] = true
		}
		if token != "" {
			tokenRes = append(tokenRes, arns)
		}
	}
	for range plain {
		wg.Add(1)
		go run("")
	}
	for range tokened {
		wg.Add(1)
		go run("same-token")
	}
	errBad := fault.New(fault.InvalidParameter, "bad request")
	for range failing {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, _, err := pb.api.repo.CreateTasks(ctx, sc, "bench", ecsstore.CreateOptions{}, func(*ecsstore.PlacementInput) ([]ecsstore.PlacedTask, error) {
				return nil, errBad
			})
			if err != errBad {
				t.Errorf("failing call: got %v, want %v", err, errBad)
			}
		}()
	}
	close(start)
	wg.Wait()

	for _, r := range tokenRes[1:] {
		if !slices.Equal(r, tokenRes[0]) {
			t.Errorf("calls with one client token got different tasks: %v and %v", r, tokenRes[0])
		}
	}
	if len(placed) != 3*64 {
		t.Errorf("placed %d tasks, want %d (the capacity)", len(placed), 3*64)
	}
	tasks, err := pb.api.repo.Tasks(ctx, sc, "bench")
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != len(placed) {
		t.Errorf("%d tasks stored, %d returned", len(tasks), len(placed))
	}
	perInstance := map[string]int{}
	for _, task := range tasks {
		perInstance[task.ContainerInstanceARN]++
	}
	instances, err := pb.api.repo.Instances(ctx, sc, "bench")
	if err != nil {
		t.Fatal(err)
	}
	for _, ci := range instances {
		cpu, _ := ci.Remaining()
		if n := perInstance[ci.ARN]; cpu != 4096-64*n || cpu < 0 {
			t.Errorf("instance %s: %d tasks but %d CPU remaining", ci.ID, n, cpu)
		}
	}
}
