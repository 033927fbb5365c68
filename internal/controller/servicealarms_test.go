package controller

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

type fakeAlarmStates struct {
	mu    sync.Mutex
	alarm map[string]bool
	reads int
}

func (a *fakeAlarmStates) InAlarm(_ context.Context, _ ecs.Scope, names []string) ([]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reads++
	var out []string
	for _, n := range names {
		if a.alarm[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

func (a *fakeAlarmStates) set(name string, on bool) { a.mu.Lock(); a.alarm[name] = on; a.mu.Unlock() }

// A deployment watched by an alarm: while the alarm is OK it proceeds
// (and the alarm is read every alarmPoll); the alarm going to ALARM fails
// it and rolls back to the last completed deployment, which the alarm
// does not fail again.
func TestServicesDeploymentAlarmRollsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := testService(t, 2, false)
		svc.DeploymentConfiguration.Alarms = &ecs.DeploymentAlarms{AlarmNames: []string{"guard"}, Enable: true, Rollback: true}
		f := newFakeServices(svc)
		alarms := &fakeAlarmStates{alarm: map[string]bool{}}
		ids := 0
		s := NewServices(ServicesConfig{Source: f, Plane: f, NoChange: errNoChange, Alarms: alarms,
			NewID:           func() string { ids++; return fmt.Sprint("e", ids) },
			NewDeploymentID: func() string { ids++; return fmt.Sprint("ecs-svc/rb", ids) },
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = s.Run(ctx) }()
		defer func() { cancel(); <-done }()
		synctest.Wait()
		f.agent("")
		synctest.Wait()
		rev1 := f.service().TaskDefinition
		rev2 := ecs.Scope{Account: "1", Region: "r"}.TaskDefinitionARN("web", 2)
		f.mu.Lock()
		f.svc.TaskDefinition = rev2
		f.svc.StartDeployment("ecs-svc/new", time.Now())
		f.mu.Unlock()
		f.changed()
		synctest.Wait()
		before := alarms.reads
		time.Sleep(3 * alarmPoll)
		synctest.Wait()
		if alarms.reads <= before {
			t.Fatalf("the alarms of a deployment in progress were not polled (%d reads)", alarms.reads)
		}
		alarms.set("guard", true)
		time.Sleep(alarmPoll)
		synctest.Wait()
		got := f.service()
		if got.TaskDefinition != rev1 || got.Primary().TaskDefinition != rev1 {
			t.Fatalf("not rolled back: %s", got.TaskDefinition)
		}
		if d := got.Deployment("ecs-svc/new"); d != nil && (d.RolloutState != ecs.RolloutFailed || d.RolloutStateReason != ReasonAlarms([]string{"guard"})) {
			t.Fatalf("failed deployment: %+v", d)
		}
		if h := got.History("ecs-svc/new"); h == nil || !slices.Equal(h.TriggeredAlarms, []string{"guard"}) {
			t.Fatalf("the failed deployment's history does not name the alarm: %+v", h)
		}
		m := messages(got)
		if !slices.Contains(m, "(service web) (deployment ecs-svc/new) deployment failed: alarm(s) detected: guard.") ||
			!slices.Contains(m, "(service web) rolling back to deployment ecs-svc/1.") {
			t.Fatalf("events: %q", m)
		}
		for range 3 {
			f.agent("")
			time.Sleep(alarmPoll)
			synctest.Wait()
		}
		if p := f.service().Primary(); p.ID != "ecs-svc/1" || p.RolloutState != ecs.RolloutCompleted {
			t.Fatalf("the rollback was failed by the alarm too: %+v", p)
		}
	})
}
