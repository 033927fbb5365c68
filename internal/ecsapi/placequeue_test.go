package ecsapi

import (
	"context"
	"maps"
	mrand "math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/placement"
	"github.com/berth-dev/berth/internal/store/bolt"
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
			_, _, err := pb.core.placer.Place(ctx, sc, "bench", placement.Options{}, func(*placement.Input) ([]placement.Placed, error) {
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
	tasks, err := pb.core.plane.ClusterTasks(ctx, sc, "bench")
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
	instances, err := pb.core.repo.Instances(ctx, sc, "bench")
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

// TestConcurrentRunTaskNeverOvercommits runs RunTask calls from several
// clients (so that the placement queue batches and pipelines them, planning
// on the cached placement view) while other writers stop tasks (releasing
// their reservations) and rewrite instances (making placements lose their
// compares and re-plan), and then checks every instance against its tasks:
// its remaining CPU and memory are exactly what its running tasks leave,
// never below zero; a static host port is held by at most one task; its
// group counts match; and every task a call returned is stored.
func TestConcurrentRunTaskNeverOvercommits(t *testing.T) {
	pb := newPlacementBench(t, 6)
	ctx := context.Background()
	sc := pb.api.scope(pb.call)
	for _, td := range []ecs.TaskDefinition{
		{Family: "big", NetworkMode: ecs.NetworkBridge, RequiresCompatibilities: []string{ecs.LaunchEC2},
			ContainerDefinitions: []ecs.ContainerDefinition{{Name: "app", Image: "busybox", CPU: 1024, Memory: ptr(4096)}}},
		{Family: "ported", NetworkMode: ecs.NetworkBridge, RequiresCompatibilities: []string{ecs.LaunchEC2},
			ContainerDefinitions: []ecs.ContainerDefinition{{Name: "app", Image: "busybox", CPU: 256, Memory: ptr(512),
				PortMappings: []ecs.PortMapping{{ContainerPort: ptr(80), HostPort: ptr(8080)}}}}},
	} {
		if _, err := pb.api.registerTaskDefinition(ctx, pb.call, &registerTaskDefinitionIn{TaskDefinition: td}); err != nil {
			t.Fatal(err)
		}
	}
	strategies := [][]ecs.PlacementStrategy{
		{{Type: ecs.StrategyBinpack, Field: "memory"}},
		{{Type: ecs.StrategyBinpack, Field: "cpu"}},
		{{Type: ecs.StrategySpread, Field: "attribute:ecs.availability-zone"}, {Type: ecs.StrategySpread, Field: "instanceId"}},
		{{Type: ecs.StrategyRandom}},
	}
	var (
		mu       sync.Mutex
		returned []string // every task a RunTask returned
		running  []string // of those, the ones not stopped by the test
		wg       sync.WaitGroup
		placers  sync.WaitGroup
		stop     = make(chan struct{})
	)
	const clients, calls = 8, 25
	for c := range clients {
		placers.Add(1)
		go func() {
			defer placers.Done()
			rnd := mrand.New(mrand.NewPCG(uint64(c), 1))
			for range calls {
				count := 1 + rnd.IntN(ecs.MaxRunCount)
				in := &runTaskIn{Cluster: "bench", TaskDefinition: []string{"bench", "big", "ported"}[rnd.IntN(3)],
					LaunchType: ecs.LaunchEC2, Count: &count, PlacementStrategy: strategies[rnd.IntN(len(strategies))]}
				if rnd.IntN(4) == 0 {
					in.Group = "g" + strconv.Itoa(rnd.IntN(3))
				}
				out, err := pb.api.runTask(ctx, pb.call, in)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, task := range out.(*tasksResult).Tasks {
					returned = append(returned, task.TaskARN)
					running = append(running, task.TaskARN)
				}
				mu.Unlock()
			}
		}()
	}
	// A stopper, as agents reporting stopped tasks: frees capacity that
	// the placers then race for.
	wg.Add(1)
	go func() {
		defer wg.Done()
		rnd := mrand.New(mrand.NewPCG(99, 1))
		for {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			if len(running) == 0 {
				mu.Unlock()
				time.Sleep(time.Millisecond)
				continue
			}
			k := rnd.IntN(len(running))
			arn := running[k]
			running = slices.Delete(running, k, k+1)
			mu.Unlock()
			_, id, _ := ecs.SplitTaskARN(arn)
			now := time.Now()
			if _, err := pb.core.repo.UpdateTask(ctx, sc, "bench", id, func(task *ecs.Task) error {
				task.RequestStop("", "test", now)
				return task.Advance(ecs.TaskStopped, now)
			}, pb.core.plane.TaskResources); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	// An instance writer, as agents updating their instances (far more
	// often than agents do, but not so often that placements never get
	// through): placements that charged the instance meanwhile lose their
	// compares.
	instances, err := pb.core.repo.Instances(ctx, sc, "bench")
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			time.Sleep(2 * time.Millisecond)
			ref := ecs.InstanceRef{Cluster: "bench", ID: instances[n%len(instances)].ID}
			if _, err := pb.core.repo.UpdateInstance(ctx, sc, ref, func(ci *ecs.ContainerInstance) error {
				return ci.PutAttributes([]ecs.Attribute{{Name: "flip", Value: strconv.Itoa(n)}})
			}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	placers.Wait()
	close(stop)
	wg.Wait()

	tasks, err := pb.core.plane.ClusterTasks(ctx, sc, "bench")
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	type usage struct {
		cpu, mem, ported int
		groups           map[string]int
	}
	use := map[string]*usage{}
	for _, task := range tasks {
		stored[task.ARN] = true
		if task.LastStatus == ecs.TaskStopped {
			continue
		}
		res, err := pb.core.plane.TaskResources(ctx, task)
		if err != nil {
			t.Fatal(err)
		}
		u := use[task.ContainerInstanceARN]
		if u == nil {
			u = &usage{groups: map[string]int{}}
			use[task.ContainerInstanceARN] = u
		}
		u.cpu += res.CPU
		u.mem += res.Memory
		u.ported += len(res.TCPPorts)
		u.groups[task.Group]++
	}
	for _, arn := range returned {
		if !stored[arn] {
			t.Errorf("RunTask returned %s, which is not stored", arn)
		}
	}
	groups, err := pb.core.repo.InstanceGroups(ctx, sc, "bench")
	if err != nil {
		t.Fatal(err)
	}
	if instances, err = pb.core.repo.Instances(ctx, sc, "bench"); err != nil {
		t.Fatal(err)
	}
	for _, ci := range instances {
		u := use[ci.ARN]
		if u == nil {
			u = &usage{groups: map[string]int{}}
		}
		cpu, mem := ci.Remaining()
		if cpu != 4096-u.cpu || mem != 16384-u.mem || cpu < 0 || mem < 0 {
			t.Errorf("instance %s: %d CPU and %d MiB remaining, its running tasks leave %d and %d", ci.ID, cpu, mem, 4096-u.cpu, 16384-u.mem)
		}
		tcp, _ := ci.UsedPorts()
		if held := slices.Contains(tcp, 8080); u.ported > 1 || held != (u.ported == 1) {
			t.Errorf("instance %s: %d running tasks on host port 8080, port taken: %v", ci.ID, u.ported, held)
		}
		have := map[string]int{}
		for _, g := range groups[ci.ID] {
			have[g]++
		}
		if !maps.Equal(have, u.groups) {
			t.Errorf("instance %s: group counts %v, running tasks %v", ci.ID, have, u.groups)
		}
	}
	t.Logf("%d tasks placed, %d of them left running", len(returned), len(running))
}

func ptr[T any](v T) *T { return &v }

// TestConcurrentFargateRunTaskFillsCapacity runs more concurrent FARGATE
// RunTask calls than the managed capacity holds: batches in flight and the
// ones planned on top of them share the managed instance, and exactly the
// capacity is placed, the rest failing with Fargate's capacity error.
func TestConcurrentFargateRunTaskFillsCapacity(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := startCore(t, st, ecscp.ManagedCapacity{VCPU: 4})
	a := newAPI(c)
	call := &awsproto.Call{Region: "us-east-1", Account: "123456789012"}
	ctx := context.Background()
	if _, err := a.createCluster(ctx, call, &createClusterIn{ClusterName: "f"}); err != nil {
		t.Fatal(err)
	}
	td := ecs.TaskDefinition{Family: "web", NetworkMode: ecs.NetworkAwsvpc, RequiresCompatibilities: []string{ecs.LaunchFargate}, CPU: "256", Memory: "512",
		ContainerDefinitions: []ecs.ContainerDefinition{{Name: "app", Image: "busybox"}}}
	if _, err := a.registerTaskDefinition(ctx, call, &registerTaskDefinitionIn{TaskDefinition: td}); err != nil {
		t.Fatal(err)
	}
	net := &ecs.NetworkConfiguration{AwsvpcConfiguration: &ecs.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
	const capacity = 4 * 1024 / 256 // tasks
	var (
		wg       sync.WaitGroup
		placed   atomic.Int64
		refused  atomic.Int64
		start    = make(chan struct{})
		callsN   = 24
		perCall  = 3
		expected = min(callsN*perCall, capacity)
	)
	for range callsN {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			count := perCall
			out, err := a.runTask(ctx, call, &runTaskIn{Cluster: "f", TaskDefinition: "web", LaunchType: ecs.LaunchFargate, Count: &count, NetworkConfiguration: net})
			if err != nil {
				t.Error(err)
				return
			}
			res := out.(*tasksResult)
			placed.Add(int64(len(res.Tasks)))
			for _, f := range res.Failures {
				if f.Reason != ecscp.FargateCapacityUnavailable {
					t.Errorf("failure %+v", f)
				}
				refused.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if placed.Load() != int64(expected) || placed.Load()+refused.Load() != int64(callsN*perCall) {
		t.Fatalf("%d tasks placed and %d refused, want %d placed of %d", placed.Load(), refused.Load(), expected, callsN*perCall)
	}
	sc := a.scope(call)
	ci, err := c.repo.ManagedInstance(ctx, sc, "f")
	if err != nil {
		t.Fatal(err)
	}
	if cpu, mem := ci.Remaining(); cpu != 4*1024-capacity*256 || mem != 4*8192-capacity*512 {
		t.Errorf("managed capacity left: %d CPU, %d MiB", cpu, mem)
	}
	tasks, err := c.plane.ClusterTasks(ctx, sc, "f")
	if err != nil || len(tasks) != expected {
		t.Errorf("%d tasks stored (%v), want %d", len(tasks), err, expected)
	}
}
