package controller

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// fakeTargets is a target group: registered targets turn healthy when
// the test says, deregistered ones drain until the test says.
type fakeTargets struct {
	mu       sync.Mutex
	state    map[Target]string
	everHigh int // most targets registered (not draining) at once
	// onDereg, if set, is told of each deregistration (f.mu held).
	onDereg func(tg string, t Target)
	// groupOf, if set, records the group each target last registered with.
	groupOf map[Target]string
}

func (f *fakeTargets) RegisterTargets(_ context.Context, _ ecs.Scope, tg string, ts []Target) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range ts {
		f.state[t] = TargetInitial
		if f.groupOf != nil {
			f.groupOf[t] = tg
		}
	}
	return nil
}

func (f *fakeTargets) DeregisterTargets(_ context.Context, _ ecs.Scope, tg string, ts []Target) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range ts {
		f.state[t] = TargetDraining
		if f.onDereg != nil {
			f.onDereg(tg, t)
		}
	}
	return nil
}

func (f *fakeTargets) TargetHealth(_ context.Context, _ ecs.Scope, tg string, ts []Target) (map[Target]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[Target]string{}
	for _, t := range ts {
		if st, ok := f.state[t]; ok {
			out[t] = st
		}
	}
	return out, nil
}

// settle turns initial targets healthy and drained targets gone.
func (f *fakeTargets) settle() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for t, st := range f.state {
		switch st {
		case TargetInitial:
			f.state[t] = TargetHealthy
		case TargetDraining:
			delete(f.state, t)
		}
	}
}

func (f *fakeTargets) count(state string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, st := range f.state {
		if st == state {
			n++
		}
	}
	return n
}

// TestServicesRollThroughTargetGroup: a task counts as healthy only once
// its target is, and an old task stops only after its target drained, so
// the healthy targets never drop below the minimum.
func TestServicesRollThroughTargetGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := testService(t, 2, false)
		port := 8080
		svc.LoadBalancers = []ecs.LoadBalancer{{TargetGroupARN: "arn:aws:elasticloadbalancing:r:1:targetgroup/web/1", ContainerName: "web", ContainerPort: &port}}
		f := newFakeServices(svc)
		tg := &fakeTargets{state: map[Target]string{}}
		ids := 0
		s := NewServices(ServicesConfig{Source: f, Plane: f, NoChange: errNoChange, Targets: tg,
			NewID: func() string { ids++; return fmt.Sprint("e", ids) }, NewDeploymentID: func() string { return "ecs-svc/x" }})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = s.Run(ctx) }()
		defer func() { cancel(); <-done }()
		synctest.Wait()
		f.agent("")
		synctest.Wait()
		if n := tg.count(TargetInitial); n != 2 {
			t.Fatalf("%d targets registering, want 2", n)
		}
		if f.service().Steady {
			t.Fatal("steady before the targets are healthy")
		}
		tg.settle()
		time.Sleep(2 * targetPoll)
		synctest.Wait()
		if s := f.service(); !s.Steady || s.Primary().RolloutState != ecs.RolloutCompleted {
			t.Fatalf("not steady with healthy targets: %+v", s.Primary())
		}
		// Roll to revision 2.
		f.mu.Lock()
		f.svc.TaskDefinition = ecs.Scope{Account: "1", Region: "r"}.TaskDefinitionARN("web", 2)
		f.svc.StartDeployment("ecs-svc/2", time.Now())
		f.mu.Unlock()
		f.changed()
		for step := 0; step < 40; step++ {
			synctest.Wait()
			if h := tg.count(TargetHealthy); h < 2 {
				t.Fatalf("step %d: %d healthy targets, minimum 2", step, h)
			}
			// No task stops while its target is still draining.
			f.mu.Lock()
			for _, task := range f.tasks {
				ip := task.Containers[0].NetworkInterfaces[0].PrivateIPv4Address
				if task.DesiredStatus == ecs.TaskStopped && tg.state[Target{ID: ip, Port: 8080}] == TargetDraining {
					f.mu.Unlock()
					t.Fatalf("step %d: task %s stopped while its target drains", step, task.ID)
				}
			}
			f.mu.Unlock()
			f.agent("")
			synctest.Wait()
			tg.settle()
			time.Sleep(2 * targetPoll)
		}
		synctest.Wait()
		s2 := f.service()
		if len(s2.Deployments) != 1 || s2.Primary().ID != "ecs-svc/2" || s2.Primary().RolloutState != ecs.RolloutCompleted {
			t.Fatalf("deployments: %+v", s2.Deployments)
		}
		if h := tg.count(TargetHealthy); h != 2 || len(tg.state) != 2 {
			t.Fatalf("targets at the end: %v", tg.state)
		}
	})
}
