package cwcp

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/cw"
	"github.com/berth-dev/berth/internal/cwstore"
	"github.com/berth-dev/berth/internal/fault"
)

// Evaluator is the leader-only reconciler that evaluates every alarm once
// per (scaled) minute, and early after an alarm changes. Level-based:
// each pass recomputes every alarm's state from its metric data.
type Evaluator struct {
	Plane *Plane
}

// NeedLeaderElection makes the evaluator leader-only.
func (e *Evaluator) NeedLeaderElection() bool { return true }

// Run evaluates until ctx ends.
func (e *Evaluator) Run(ctx context.Context) error {
	iv := e.Plane.scale.Real(60)
	t := time.NewTicker(iv)
	defer t.Stop()
	e.Plane.EvaluateAll(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			e.Plane.EvaluateAll(ctx)
		case <-e.Plane.kick:
			e.Plane.EvaluateAll(ctx)
		case <-e.Plane.kickComposites:
			e.Plane.EvaluateComposites(ctx)
		}
	}
}

// EvaluateAll evaluates every alarm once.
func (p *Plane) EvaluateAll(ctx context.Context) {
	all, err := p.repo.ListAll(ctx)
	if err != nil {
		p.log.Warn("listing alarms failed", "err", err)
		return
	}
	for _, st := range all {
		if ctx.Err() != nil {
			return
		}
		if st.Alarm.IsComposite() {
			continue
		}
		if err := p.evaluate(ctx, st); err != nil && !fault.Is(err, fault.Conflict) {
			p.log.Warn("alarm evaluation failed", "alarm", st.Alarm.Name, "err", err)
		}
	}
	// Composite alarms follow their children's states as they are now.
	p.EvaluateComposites(ctx)
}

// EvaluateComposites evaluates the composite alarms whose configuration
// or children changed.
func (p *Plane) EvaluateComposites(ctx context.Context) {
	all, err := p.repo.ListAll(ctx)
	if err != nil {
		p.log.Warn("listing alarms failed", "err", err)
		return
	}
	p.evaluateComposites(ctx, all)
}

// Slots returns an alarm's evaluation periods at now: the last
// EvaluationPeriods complete periods, oldest first.
func (p *Plane) Slots(sc cw.Scope, a *cw.Alarm, now time.Time) ([]cw.Slot, error) {
	return p.slots(sc, a, now, a.EvaluationPeriods)
}

// RangeSlots returns an alarm's evaluation range at now: the last
// RangePeriods complete periods, oldest first, from which cw.Evaluate
// looks back past missing datapoints.
func (p *Plane) RangeSlots(sc cw.Scope, a *cw.Alarm, now time.Time) ([]cw.Slot, error) {
	return p.slots(sc, a, now, a.RangePeriods())
}

func (p *Plane) slots(sc cw.Scope, a *cw.Alarm, now time.Time, count int) ([]cw.Slot, error) {
	rp := p.scale.Real(a.EvalPeriod())
	if rp <= 0 {
		rp = time.Millisecond
	}
	end := now.Truncate(rp)
	start := end.Add(-time.Duration(count) * rp)
	slots := make([]cw.Slot, count)
	for i := range slots {
		slots[i].Time = start.Add(time.Duration(i) * rp)
	}
	if len(a.Queries) == 0 {
		samples, err := p.metrics.Samples(sc, a.Metric, start, end)
		if err != nil {
			return nil, err
		}
		var groups map[int][]cw.Sample
		if a.ExtendedStatistic != "" {
			groups = cw.BucketSamples(samples, start, end, rp)
		}
		for _, pt := range cw.Bucket(samples, start, end, rp) {
			i := int(pt.Time.Sub(start) / rp)
			if i < 0 || i >= len(slots) {
				continue
			}
			if v, ok := statValue(pt.Agg, groups[i], a.StatName()); ok {
				slots[i].Value, slots[i].SampleCount, slots[i].Present = v, pt.Agg.Count, true
			}
		}
		return slots, nil
	}
	series, _, err := p.evalQueries(sc, a.Queries, start, end)
	if err != nil {
		return nil, err
	}
	for _, q := range a.Queries {
		if !q.ReturnData || len(series[q.ID]) == 0 {
			continue
		}
		vals := series[q.ID][0].Values
		for i := range slots {
			if i < len(vals) && !math.IsNaN(vals[i]) {
				slots[i].Value, slots[i].Present = vals[i], true
			}
		}
	}
	return slots, nil
}

func (p *Plane) evaluate(ctx context.Context, st cwstore.Stored) error {
	a := st.Alarm
	now := p.now()
	slots, err := p.RangeSlots(st.Scope, a, now)
	if err != nil {
		return err
	}
	ev := cw.Evaluate(a, slots, now)
	if !ev.Changed {
		if a.State == cw.StateAlarm && a.ActionsEnabled {
			p.runActions(ctx, st.Scope, a, a.State, true)
		}
		return nil
	}
	old := *a
	a.State, a.StateReason, a.StateReasonData = ev.State, ev.Reason, ev.ReasonData
	a.StateUpdated, a.StateTransitioned = now, now
	if err := p.repo.Put(ctx, st.Scope, a, st.Rev, stateHistory(&old, a, now)); err != nil {
		return err
	}
	p.log.Info("alarm state changed", "alarm", a.Name, "from", old.State, "to", a.State, "reason", a.StateReason)
	p.runActions(ctx, st.Scope, a, old.State, false)
	return nil
}

// repeats reports whether an action is invoked again on every evaluation
// while the alarm stays in ALARM (Auto Scaling policies are).
func repeats(arn string) bool {
	return strings.HasPrefix(arn, "arn:aws:autoscaling:")
}

// runActions invokes the actions of the alarm's state. On a repeat only
// the repeating ones run, and no history is written for them.
func (p *Plane) runActions(ctx context.Context, sc cw.Scope, a *cw.Alarm, oldState string, repeat bool) {
	if !a.ActionsEnabled || a.ActionsSuppressedBy != "" {
		return
	}
	var actions []string
	switch a.State {
	case cw.StateAlarm:
		actions = a.AlarmActions
	case cw.StateOK:
		actions = a.OKActions
	case cw.StateInsufficient:
		actions = a.InsufficientDataActions
	}
	var hist []cwstore.HistoryItem
	for _, arn := range actions {
		if repeat && !repeats(arn) {
			continue
		}
		ev := ActionEvent{Action: arn, Scope: sc, Alarm: *a, OldState: oldState, NewState: a.State, Reason: a.StateReason, Time: p.now(), Repeat: repeat}
		h := p.handler(arn)
		var err error
		if h == nil {
			err = fmt.Errorf("berth has no handler for this kind of action")
		} else {
			actx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err = h(actx, ev)
			cancel()
		}
		if repeat {
			if err != nil {
				p.log.Warn("repeated alarm action failed", "alarm", a.Name, "action", arn, "err", err)
			}
			continue
		}
		summary := "Successfully executed action " + arn
		data := map[string]any{"actionState": "Succeeded", "notificationResource": arn, "stateUpdateTimestamp": ev.Time.UnixMilli()}
		if err != nil {
			summary = "Failed to execute action " + arn
			data["actionState"], data["error"] = "Failed", err.Error()
		}
		b, _ := json.Marshal(data)
		hist = append(hist, cwstore.HistoryItem{AlarmName: a.Name, AlarmType: a.Type(), Time: ev.Time, Type: "Action", Summary: summary, Data: string(b)})
	}
	if len(hist) > 0 {
		if err := p.repo.AddHistory(ctx, sc, a.Name, hist...); err != nil {
			p.log.Warn("writing alarm action history failed", "alarm", a.Name, "err", err)
		}
	}
}
