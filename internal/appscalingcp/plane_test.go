package appscalingcp

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/appscaling"
	"github.com/berth-dev/berth/internal/appscalingstore"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store/bolt"
)

var sc = appscaling.Scope{Account: "123456789012", Region: "us-east-1"}

var key = appscaling.Key{Namespace: "ecs", ResourceID: "service/prod-cluster/web-service", Dimension: "ecs:service:DesiredCount"}

// fakeECS is the ECS services a unit test scales.
type fakeECS struct {
	mu    sync.Mutex
	count map[string]int
	sets  []int
}

func (f *fakeECS) DesiredCount(_ context.Context, _ appscaling.Scope, cluster, service string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.count[cluster+"/"+service]
	if !ok {
		return 0, fault.NotFoundf("service", "Service not found.")
	}
	return n, nil
}

func (f *fakeECS) SetDesiredCount(_ context.Context, _ appscaling.Scope, cluster, service string, n int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count[cluster+"/"+service] = n
	f.sets = append(f.sets, n)
	return nil
}

func (f *fakeECS) get() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count["prod-cluster/web-service"]
}

type fakeAlarms struct {
	mu    sync.Mutex
	names map[string]bool
}

func (a *fakeAlarms) PutTrackingAlarms(_ context.Context, sc appscaling.Scope, _ *appscaling.Policy, high, low string) ([]appscaling.AlarmRef, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.names[high], a.names[low] = true, true
	arn := "arn:aws:cloudwatch:" + sc.Region + ":" + sc.Account + ":alarm:"
	return []appscaling.AlarmRef{{Name: high, ARN: arn + high}, {Name: low, ARN: arn + low}}, nil
}

func (a *fakeAlarms) DeleteAlarms(_ context.Context, _ appscaling.Scope, names []string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, n := range names {
		delete(a.names, n)
	}
	return nil
}

func newPlane(t *testing.T, now func() time.Time) (*Plane, *fakeECS, *fakeAlarms) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ecs := &fakeECS{count: map[string]int{"prod-cluster/web-service": 4}}
	al := &fakeAlarms{names: map[string]bool{}}
	return New(Config{Repo: appscalingstore.New(st), Services: ecs, Alarms: al, Now: now}), ecs, al
}

func ip(n int) *int { return &n }

func code(err error) string {
	if fe, ok := fault.As(err); ok {
		return fe.Code
	}
	return ""
}

func register(t *testing.T, p *Plane, lo, hi int) *appscaling.Target {
	t.Helper()
	tg, err := p.Register(t.Context(), sc, appscaling.Register{Key: key, MinCapacity: ip(lo), MaxCapacity: ip(hi)})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestTargetTrackingScalesAndOwnsAlarms(t *testing.T) {
	clock := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	p, ecs, al := newPlane(t, now)
	ctx := t.Context()
	register(t, p, 2, 20)
	pol, err := p.PutPolicy(ctx, sc, appscaling.Policy{Key: key, Name: "cpu-target-tracking", Type: appscaling.TargetTracking,
		TargetTracking: &appscaling.TargetTrackingConfig{TargetValue: 60, PredefinedMetric: appscaling.MetricECSCPU,
			ScaleOutCooldown: ip(60), ScaleInCooldown: ip(120)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(pol.Alarms) != 2 || !strings.HasPrefix(pol.Alarms[0].Name, "TargetTracking-service/prod-cluster/web-service-AlarmHigh-") ||
		!strings.HasPrefix(pol.Alarms[1].Name, "TargetTracking-service/prod-cluster/web-service-AlarmLow-") || len(al.names) != 2 {
		t.Fatalf("alarms %+v (backend %v)", pol.Alarms, al.names)
	}
	high := pol.Alarms[0].Name
	res, err := p.Execute(ctx, sc, pol.ARN(sc), Trigger{Alarm: high, State: "ALARM", Metric: 90})
	if err != nil || res.Activity == nil {
		t.Fatalf("execute: %+v %v", res, err)
	}
	if ecs.get() != 6 || res.Activity.Description != "Setting desired count to 6." ||
		res.Activity.Cause != "monitor alarm "+high+" in state ALARM triggered policy cpu-target-tracking" {
		t.Fatalf("count %d, activity %+v", ecs.get(), res.Activity)
	}
	// Within the scale-out cooldown, the same reading does not scale again; a larger need does.
	clock = clock.Add(30 * time.Second)
	if res, _ := p.Execute(ctx, sc, pol.ARN(sc), Trigger{Alarm: high, State: "ALARM", Metric: 50}); res.Activity != nil {
		t.Fatalf("scaled in during the scale-out cooldown: %+v", res.Activity)
	}
	if res, _ := p.Execute(ctx, sc, pol.ARN(sc), Trigger{Alarm: high, State: "ALARM", Metric: 100}); res.Activity == nil || ecs.get() != 10 {
		t.Fatalf("a larger scale-out during the cooldown: %+v, count %d", res, ecs.get())
	}
	// Max bounds it.
	clock = clock.Add(2 * time.Minute)
	if _, err := p.Execute(ctx, sc, pol.ARN(sc), Trigger{Alarm: high, State: "ALARM", Metric: 300}); err != nil || ecs.get() != 20 {
		t.Fatalf("max bound: count %d, %v", ecs.get(), err)
	}
	// Scale-in after the cooldown, bounded by min, only from the low alarm.
	clock = clock.Add(2 * time.Minute)
	if res, _ := p.Execute(ctx, sc, pol.ARN(sc), Trigger{Alarm: high, State: "ALARM", Metric: 1}); res.Activity != nil || ecs.get() != 20 {
		t.Fatalf("the high alarm scaled in: %+v, count %d", res, ecs.get())
	}
	if _, err := p.Execute(ctx, sc, pol.ARN(sc), Trigger{Alarm: pol.Alarms[1].Name, State: "ALARM", Metric: 1}); err != nil || ecs.get() != 2 {
		t.Fatalf("min bound: count %d, %v", ecs.get(), err)
	}
	acts, err := p.Activities(ctx, sc, "ecs", key.ResourceID, "")
	if err != nil || len(acts) != 4 || acts[0].Description != "Setting desired count to 2." {
		t.Fatalf("activities %d %v: %+v", len(acts), err, acts)
	}
	// Deleting the policy deletes its alarms.
	if err := p.DeletePolicy(ctx, sc, key, "cpu-target-tracking"); err != nil || len(al.names) != 0 {
		t.Fatalf("delete: %v, alarms left %v", err, al.names)
	}
	if err := p.DeletePolicy(ctx, sc, key, "cpu-target-tracking"); code(err) != appscaling.CodeObjectNotFound {
		t.Fatalf("second delete: %v", err)
	}
}

func TestDisableScaleInAndStepPolicy(t *testing.T) {
	clock := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	p, ecs, _ := newPlane(t, func() time.Time { return clock })
	ctx := t.Context()
	register(t, p, 1, 10)
	pol, err := p.PutPolicy(ctx, sc, appscaling.Policy{Key: key, Name: "tt", Type: appscaling.TargetTracking,
		TargetTracking: &appscaling.TargetTrackingConfig{TargetValue: 60, PredefinedMetric: appscaling.MetricECSMemory, DisableScaleIn: true}})
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := p.Execute(ctx, sc, pol.ARN(sc), Trigger{Alarm: "low", State: "ALARM", Metric: 10}); res.Activity != nil || ecs.get() != 4 {
		t.Fatalf("DisableScaleIn scaled in: %+v", res)
	}
	fp := func(v float64) *float64 { return &v }
	step, err := p.PutPolicy(ctx, sc, appscaling.Policy{Key: key, Name: "web-app-cpu-gt-75", Step: &appscaling.StepConfig{
		AdjustmentType: appscaling.PercentChangeInCapacity, MinAdjustmentMagnitude: ip(2), Cooldown: ip(60),
		Steps: []appscaling.StepAdjustment{{Lower: fp(0), Upper: fp(10), Adjustment: 10}, {Lower: fp(10), Adjustment: 50}}}})
	if err != nil {
		t.Fatal(err)
	}
	if step.Type != appscaling.StepScaling || len(step.Alarms) != 0 {
		t.Fatalf("step policy %+v", step)
	}
	// Breach 5 above 75: +10% of 4 = 0.4 -> 1, raised to MinAdjustmentMagnitude 2.
	res, err := p.Execute(ctx, sc, step.ARN(sc), Trigger{Alarm: "web-app-cpu-gt-75", State: "ALARM", Metric: 80, Threshold: 75})
	if err != nil || ecs.get() != 6 || res.Activity.Cause != "monitor alarm web-app-cpu-gt-75 in state ALARM triggered policy web-app-cpu-gt-75" {
		t.Fatalf("step: count %d, %+v %v", ecs.get(), res, err)
	}
	// Suspended scale-out.
	if _, err := p.Register(ctx, sc, appscaling.Register{Key: key, Suspended: &appscaling.SuspendedState{DynamicScalingOutSuspended: true}}); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Hour)
	if res, _ := p.Execute(ctx, sc, step.ARN(sc), Trigger{Alarm: "x", State: "ALARM", Metric: 99, Threshold: 75}); res.Activity != nil {
		t.Fatalf("suspended target scaled out: %+v", res.Activity)
	}
}

func TestValidationAndNotFound(t *testing.T) {
	p, _, _ := newPlane(t, time.Now)
	ctx := t.Context()
	other := key
	other.ResourceID = "service/prod-cluster/missing"
	if _, err := p.Register(ctx, sc, appscaling.Register{Key: other, MinCapacity: ip(1), MaxCapacity: ip(2)}); code(err) != appscaling.CodeValidation {
		t.Errorf("register of a missing service: %v", err)
	}
	if _, err := p.PutPolicy(ctx, sc, appscaling.Policy{Key: key, Name: "x", Type: appscaling.TargetTracking,
		TargetTracking: &appscaling.TargetTrackingConfig{TargetValue: 50, PredefinedMetric: appscaling.MetricECSCPU}}); code(err) != appscaling.CodeObjectNotFound {
		t.Errorf("policy without target: %v", err)
	}
	if err := p.Deregister(ctx, sc, key); code(err) != appscaling.CodeObjectNotFound {
		t.Errorf("deregister of nothing: %v", err)
	}
	tg := register(t, p, 1, 3)
	if tg.RoleARN != appscaling.ServiceLinkedRole(sc.Account) {
		t.Errorf("role %s", tg.RoleARN)
	}
	if err := p.Tag(ctx, sc, tg.ARN(sc), map[string]string{"env": "prod"}); err != nil {
		t.Fatal(err)
	}
	if tags, err := p.Tags(ctx, sc, tg.ARN(sc)); err != nil || tags["env"] != "prod" {
		t.Errorf("tags %v %v", tags, err)
	}
	if _, err := p.Tags(ctx, sc, "arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/nope"); code(err) != appscaling.CodeResourceNotFound {
		t.Errorf("tags of a missing target: %v", err)
	}
	if err := p.PutScheduled(ctx, sc, appscaling.ScheduledAction{Key: key, Name: "s", Schedule: "cron(0 9 * *)", MinCapacity: ip(1)}); code(err) != appscaling.CodeValidation {
		t.Errorf("bad cron: %v", err)
	}
	if err := p.Deregister(ctx, sc, key); err != nil {
		t.Fatal(err)
	}
	if ts, _ := p.Targets(ctx, sc, "ecs", nil, ""); len(ts) != 0 {
		t.Errorf("targets after deregister: %d", len(ts))
	}
}

// The scheduler runs an at() action at its time and brings the count
// into the new range; a rate() action fires every interval.
func TestSchedulerRunsActionsOnTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, ecs, _ := newPlane(t, time.Now)
		ctx, cancel := context.WithCancel(t.Context())
		register(t, p, 2, 20)
		at := time.Now().UTC().Add(10 * time.Minute).Truncate(time.Second)
		if err := p.PutScheduled(ctx, sc, appscaling.ScheduledAction{Key: key, Name: "morning", MinCapacity: ip(8), MaxCapacity: ip(12),
			Schedule: "at(" + at.Format("2006-01-02T15:04:05") + ")"}); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		s := &Scheduler{Plane: p}
		go func() { s.Run(ctx); close(done) }()
		synctest.Wait()
		time.Sleep(9 * time.Minute)
		synctest.Wait()
		if ecs.get() != 4 {
			t.Fatalf("the action ran early: count %d", ecs.get())
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if ecs.get() != 8 {
			t.Fatalf("after its time: count %d, want the new minimum 8", ecs.get())
		}
		acts, _ := p.Activities(ctx, sc, "ecs", "", "")
		if len(acts) != 2 || acts[1].Description != "Setting min capacity to 8 and max capacity to 12" ||
			acts[1].Cause != "scheduled action name morning was triggered" || acts[0].Cause != "minimum capacity was set to 8" {
			t.Fatalf("activities %+v", acts)
		}
		// A rate action added while running wakes the scheduler and fires each interval.
		if err := p.PutScheduled(ctx, sc, appscaling.ScheduledAction{Key: key, Name: "cap", MaxCapacity: ip(5), Schedule: "rate(5 minutes)"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5*time.Minute + time.Second)
		synctest.Wait()
		if ecs.get() != 5 {
			t.Fatalf("rate action: count %d, want 5", ecs.get())
		}
		tg, _ := p.Targets(ctx, sc, "ecs", nil, "")
		if tg[0].MinCapacity != 5 || tg[0].MaxCapacity != 5 {
			t.Fatalf("range %d-%d, want 5-5", tg[0].MinCapacity, tg[0].MaxCapacity)
		}
		cancel()
		<-done
	})
}
