package cwcp_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/cw"
	"github.com/berth-dev/berth/internal/cwcp"
	"github.com/berth-dev/berth/internal/cwstore"
	"github.com/berth-dev/berth/internal/store/bolt"
)

var sc = cw.Scope{Account: "123456789012", Region: "us-east-1"}

func newPlane(t *testing.T, scale float64) *cwcp.Plane {
	t.Helper()
	dir := t.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ms, err := cwstore.OpenMetrics(filepath.Join(dir, "metrics"), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close() })
	return cwcp.New(cwcp.Config{Metrics: ms, Repo: cwstore.NewRepo(st), Scale: cw.TimeScale(scale)})
}

type recorder struct {
	mu     sync.Mutex
	events []cwcp.ActionEvent
}

func (r *recorder) handle(_ context.Context, ev cwcp.ActionEvent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return nil
}

func (r *recorder) snapshot() []cwcp.ActionEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]cwcp.ActionEvent(nil), r.events...)
}

var cpu = cw.Metric{Namespace: "AWS/ECS", Name: "CPUUtilization", Dimensions: []cw.Dimension{{Name: "ClusterName", Value: "c"}, {Name: "ServiceName", Value: "s"}}}

func put(t *testing.T, p *cwcp.Plane, v float64) {
	t.Helper()
	if err := p.PublishServiceMetrics(sc, "AWS/ECS", []cw.Datum{{Metric: cpu, Time: time.Now(), Agg: cw.Agg{Count: 1, Sum: v, Min: v, Max: v}, Unit: "Percent"}}); err != nil {
		t.Fatal(err)
	}
}

// TestEvaluatorActions: with time scaled by 60 (a minute per second), a
// 3-of-3 alarm on CPU > 60 goes to ALARM after three breaching periods,
// invokes its Auto Scaling action on the transition and again every
// evaluation while in ALARM, and goes back to OK (OK action) once the
// data is below the threshold.
func TestEvaluatorActions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPlane(t, 60)
		rec := &recorder{}
		const policy = "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:abc:resource/ecs/service/c/s:policyName/out"
		const okTopic = "arn:aws:sns:us-east-1:123456789012:ok"
		p.RegisterActionHandler("arn:aws:autoscaling:", rec.handle)
		p.RegisterActionHandler("arn:aws:sns:", rec.handle)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		err := p.PutAlarm(ctx, sc, &cw.Alarm{Name: "high", Metric: cpu, Statistic: "Average", Period: 60, EvaluationPeriods: 3,
			Threshold: 60, ComparisonOperator: "GreaterThanThreshold", ActionsEnabled: true, AlarmActions: []string{policy}, OKActions: []string{okTopic}})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { defer close(done); _ = (&cwcp.Evaluator{Plane: p}).Run(ctx) }()
		state := func() string {
			als, err := p.DescribeAlarms(ctx, sc, cwcp.AlarmFilter{Names: []string{"high"}})
			if err != nil || len(als) != 1 {
				t.Fatalf("%v %v", als, err)
			}
			return als[0].State
		}
		// Two breaching periods: not yet.
		for i := 0; i < 2; i++ {
			put(t, p, 90)
			time.Sleep(time.Second)
		}
		synctest.Wait()
		if s := state(); s == cw.StateAlarm {
			t.Fatalf("ALARM after two periods")
		}
		put(t, p, 90)
		time.Sleep(1100 * time.Millisecond)
		synctest.Wait()
		if s := state(); s != cw.StateAlarm {
			t.Fatalf("state %s after three breaching periods", s)
		}
		evs := rec.snapshot()
		if len(evs) != 1 || evs[0].Action != policy || evs[0].Repeat || evs[0].NewState != cw.StateAlarm {
			t.Fatalf("events %+v", evs)
		}
		// Still breaching: the policy is invoked again each evaluation.
		put(t, p, 95)
		time.Sleep(time.Second)
		put(t, p, 95)
		time.Sleep(time.Second)
		synctest.Wait()
		evs = rec.snapshot()
		if len(evs) < 2 || !evs[len(evs)-1].Repeat {
			t.Fatalf("no repeat: %+v", evs)
		}
		// Below the threshold for a period: OK and the OK action.
		put(t, p, 10)
		time.Sleep(1100 * time.Millisecond)
		synctest.Wait()
		if s := state(); s != cw.StateOK {
			t.Fatalf("state %s after a low period", s)
		}
		evs = rec.snapshot()
		if last := evs[len(evs)-1]; last.Action != okTopic || last.NewState != cw.StateOK {
			t.Fatalf("last event %+v", last)
		}
		hist, err := p.History(ctx, sc, cwcp.HistoryFilter{Name: "high", Type: "Action"})
		if err != nil || len(hist) != 2 {
			t.Fatalf("action history %+v %v", hist, err)
		}
		cancel()
		<-done
	})
}
