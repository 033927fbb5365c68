package appscaling

import (
	"math"
	"slices"
	"time"
)

// sortedSteps returns the steps ordered by lower bound (unbounded first).
func sortedSteps(steps []StepAdjustment) []StepAdjustment {
	out := slices.Clone(steps)
	slices.SortFunc(out, func(a, b StepAdjustment) int {
		switch {
		case a.Lower == nil && b.Lower == nil:
			return 0
		case a.Lower == nil:
			return -1
		case b.Lower == nil:
			return 1
		case *a.Lower < *b.Lower:
			return -1
		case *a.Lower > *b.Lower:
			return 1
		}
		return 0
	})
	return out
}

// StepFor returns the step whose interval holds delta (the metric minus
// the alarm threshold), or false. As AWS documents: above the threshold
// (delta >= 0) the lower bound is inclusive and the upper exclusive;
// below it the lower bound is exclusive and the upper inclusive.
func StepFor(steps []StepAdjustment, delta float64) (StepAdjustment, bool) {
	for _, s := range steps {
		lowOK := s.Lower == nil || (delta >= 0 && delta >= *s.Lower) || (delta < 0 && delta > *s.Lower)
		highOK := s.Upper == nil || (delta >= 0 && delta < *s.Upper) || (delta < 0 && delta <= *s.Upper)
		if lowOK && highOK {
			return s, true
		}
	}
	return StepAdjustment{}, false
}

// StepCapacity is the new capacity a step adjustment asks for, before
// the target's bounds. For PercentChangeInCapacity the change is rounded
// as AWS documents: above 1 down, between 0 and 1 to 1, between -1 and 0
// to -1, below -1 up; then MinAdjustmentMagnitude raises its magnitude.
func StepCapacity(c *StepConfig, step StepAdjustment, current int) int {
	switch c.AdjustmentType {
	case ExactCapacity:
		return step.Adjustment
	case PercentChangeInCapacity:
		raw := float64(current) * float64(step.Adjustment) / 100
		var change int
		switch {
		case raw >= 1:
			change = int(math.Floor(raw))
		case raw > 0:
			change = 1
		case raw <= -1:
			change = int(math.Ceil(raw))
		case raw < 0:
			change = -1
		}
		if m := c.MinAdjustmentMagnitude; m != nil && change != 0 && abs(change) < *m {
			if change > 0 {
				change = *m
			} else {
				change = -*m
			}
		}
		return current + change
	}
	return current + step.Adjustment
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// TrackingCapacity is the capacity that brings the metric to the target
// value if the load spreads evenly: ceil(current * metric / target). The
// ceiling keeps a scale-in conservative (the metric stays at or below
// the target). A service at zero tasks scales out to one.
func TrackingCapacity(current int, metric, target float64) int {
	if current <= 0 {
		if metric > target {
			return 1
		}
		return 0
	}
	want := float64(current) * metric / target
	// Guard float noise: 4*75/60 is 5, not 5.000000001.
	n := int(math.Ceil(want - 1e-9))
	return n
}

// Decision is what a dynamic scaling evaluation decided.
type Decision struct {
	Capacity int    // the new desired count (== current when nothing changes)
	Reason   string // why nothing changed, if so
}

// Cooldowns are a policy's scale-out and scale-in cooldowns.
type Cooldowns struct{ Out, In time.Duration }

// Cooldowns returns the policy's cooldowns (AWS's default for ECS when unset).
func (p *Policy) Cooldowns() Cooldowns {
	sec := func(v *int) time.Duration {
		if v == nil {
			return DefaultCooldown
		}
		return time.Duration(*v) * time.Second
	}
	switch {
	case p.TargetTracking != nil:
		return Cooldowns{Out: sec(p.TargetTracking.ScaleOutCooldown), In: sec(p.TargetTracking.ScaleInCooldown)}
	case p.Step != nil:
		cd := sec(p.Step.Cooldown)
		return Cooldowns{Out: cd, In: cd}
	}
	return Cooldowns{Out: DefaultCooldown, In: DefaultCooldown}
}

// Decide bounds a proposed capacity by the target's range, its suspended
// state and the cooldowns (scaled by timeScale, 1 for AWS's), as AWS
// documents them: during a scale-out cooldown only a larger scale-out
// than the last one proceeds, and no scale-in; during a scale-in
// cooldown no further scale-in, while a scale-out proceeds at once.
func Decide(t *Target, cd Cooldowns, current, proposed int, now time.Time, timeScale float64) Decision {
	want := t.Clamp(proposed)
	scaled := func(d time.Duration) time.Duration {
		if timeScale <= 0 {
			return d
		}
		return time.Duration(float64(d) * timeScale)
	}
	switch {
	case want > current:
		if t.Suspended.DynamicScalingOutSuspended {
			return Decision{Capacity: current, Reason: "dynamic scale-out is suspended"}
		}
		if !t.LastScaleOut.IsZero() && now.Before(t.LastScaleOut.Add(scaled(cd.Out))) && want <= t.LastOutTo {
			return Decision{Capacity: current, Reason: "scale-out cooldown in effect"}
		}
	case want < current:
		if t.Suspended.DynamicScalingInSuspended {
			return Decision{Capacity: current, Reason: "dynamic scale-in is suspended"}
		}
		if !t.LastScaleOut.IsZero() && now.Before(t.LastScaleOut.Add(scaled(cd.Out))) {
			return Decision{Capacity: current, Reason: "scale-out cooldown in effect"}
		}
		if !t.LastScaleIn.IsZero() && now.Before(t.LastScaleIn.Add(scaled(cd.In))) {
			return Decision{Capacity: current, Reason: "scale-in cooldown in effect"}
		}
	default:
		if proposed > t.MaxCapacity && current == t.MaxCapacity {
			return Decision{Capacity: current, Reason: "already at max capacity"}
		}
		if proposed < t.MinCapacity && current == t.MinCapacity {
			return Decision{Capacity: current, Reason: "already at min capacity"}
		}
	}
	return Decision{Capacity: want}
}
