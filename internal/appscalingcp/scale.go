package appscalingcp

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/appscaling"
	"github.com/berth-dev/berth/internal/appscalingstore"
	"github.com/berth-dev/berth/internal/fault"
)

// Trigger is an alarm that ran a policy: its name and state, its
// threshold and the (aggregated) metric value it evaluated.
type Trigger struct {
	Alarm     string
	State     string
	Metric    float64
	Threshold float64
}

// Result is what a policy execution did: the activity it recorded (nil
// when it did not scale) and, if it did not, why.
type Result struct {
	Activity  *appscaling.Activity
	NotScaled string
}

// Execute runs a policy for an alarm. A target tracking policy computes
// the capacity that brings the metric to its target (a scale-in only
// from its low alarm's side, and never with DisableScaleIn); a step
// policy applies the step that holds the breach. The target's range,
// suspended state and the cooldowns bound the change.
func (p *Plane) Execute(ctx context.Context, sc appscaling.Scope, policyARN string, tr Trigger) (Result, error) {
	pol, err := p.PolicyByARN(ctx, sc, policyARN)
	if err != nil {
		return Result{}, err
	}
	cluster, service := pol.ECSService()
	current, err := p.services.DesiredCount(ctx, sc, cluster, service)
	if err != nil {
		return Result{}, appscaling.FailedResourcef("Unable to read the desired count of %s: %s", pol.ResourceID, err.Error())
	}
	var proposed int
	switch pol.Type {
	case appscaling.TargetTracking:
		c := pol.TargetTracking
		proposed = appscaling.TrackingCapacity(current, tr.Metric, c.TargetValue)
		if proposed < current && c.DisableScaleIn {
			return Result{NotScaled: "scale-in is disabled by the policy"}, nil
		}
		// The high alarm only scales out, the low one only in (a high
		// alarm still in ALARM may run the policy once the load fell).
		switch alarmSide(pol, tr.Alarm) {
		case "high":
			if proposed < current {
				return Result{NotScaled: "the high alarm does not scale in"}, nil
			}
		case "low":
			if proposed > current {
				return Result{NotScaled: "the low alarm does not scale out"}, nil
			}
		}
	default:
		step, ok := appscaling.StepFor(pol.Step.Steps, tr.Metric-tr.Threshold)
		if !ok {
			return Result{NotScaled: "no step adjustment holds the breach"}, nil
		}
		proposed = appscaling.StepCapacity(pol.Step, step, current)
	}
	return p.scale(ctx, sc, pol.Key, current, proposed, pol.Cooldowns(), pol.Name, appscaling.AlarmCause(tr.Alarm, tr.State, pol.Name))
}

// scale applies a dynamic change decided against the target's state,
// records the activity and the cooldown marks.
func (p *Plane) scale(ctx context.Context, sc appscaling.Scope, k appscaling.Key, current, proposed int, cd appscaling.Cooldowns, policy, cause string) (Result, error) {
	now := p.now()
	var want int
	var reason string
	err := p.repo.Update(ctx, sc, func(st *appscalingstore.State, tx *appscalingstore.Tx) error {
		t := st.Target(k)
		if t == nil {
			return noTarget(k)
		}
		d := appscaling.Decide(t, cd, current, proposed, now, p.timeScale)
		want, reason = d.Capacity, d.Reason
		if want == current {
			if reason == "" {
				reason = "the desired count is already where the policy puts it"
			}
			return nil
		}
		if want > current {
			t.LastScaleOut, t.LastOutTo = now, want
		} else {
			t.LastScaleIn = now
		}
		t.LastPolicy = policy
		tx.PutTarget(t)
		return nil
	})
	if err != nil || want == current {
		return Result{NotScaled: reason}, err
	}
	act := p.setCount(ctx, sc, k, want, cause, now)
	return Result{Activity: act}, nil
}

// setCount sets the service's desired count and records the activity
// (Failed, with the reason, if ECS refused).
func (p *Plane) setCount(ctx context.Context, sc appscaling.Scope, k appscaling.Key, n int, cause string, start time.Time) *appscaling.Activity {
	cluster, service := k.ECSService()
	act := &appscaling.Activity{Key: k, ID: newUUID(), Description: appscaling.DesiredCountDescription(n), Cause: cause, Start: start}
	if err := p.services.SetDesiredCount(ctx, sc, cluster, service, n); err != nil {
		act.Status, act.StatusMessage = appscaling.StatusFailed, "Failed to set desired count to "+itoa(n)+". "+errMessage(err)
	} else {
		act.Status, act.StatusMessage = appscaling.StatusSuccessful, appscaling.SucceededMessage(n)
	}
	act.End = p.now()
	p.record(ctx, sc, act)
	p.log.Info("scaling activity", "resource", k.ResourceID, "description", act.Description, "cause", cause, "status", act.Status)
	return act
}

func (p *Plane) record(ctx context.Context, sc appscaling.Scope, act *appscaling.Activity) {
	err := p.repo.Update(ctx, sc, func(st *appscalingstore.State, tx *appscalingstore.Tx) error {
		if st.Target(act.Key) == nil {
			return nil // deregistered meanwhile
		}
		tx.AddActivity(act)
		return nil
	})
	if err != nil {
		p.log.Warn("record a scaling activity", "resource", act.ResourceID, "err", err)
	}
}

func errMessage(err error) string {
	if fe, ok := fault.As(err); ok && fe.Msg != "" {
		return fe.Msg
	}
	return err.Error()
}

func itoa(n int) string { return strconv.Itoa(n) }

// alarmSide says whether alarm is the target tracking policy's high or
// low alarm ("" if neither).
func alarmSide(pol *appscaling.Policy, alarm string) string {
	for _, a := range pol.Alarms {
		if a.Name != alarm {
			continue
		}
		switch {
		case strings.Contains(a.Name, "-AlarmHigh-"):
			return "high"
		case strings.Contains(a.Name, "-AlarmLow-"):
			return "low"
		}
	}
	return ""
}
