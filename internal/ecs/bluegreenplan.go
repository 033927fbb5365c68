package ecs

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// The shift planner: a pure function from a service's shift in flight,
// its tasks and the time to the next step, as PlanRolling is for ROLLING.
// Each call moves the stages as far as they can go at once:
//
//	RECONCILE_SERVICE  revisions other than blue and green are scaled in
//	PRE_SCALE_UP       (instant: lifecycle hooks would run here)
//	SCALE_UP           green starts at the full desired count, in its own
//	                   target group (no production traffic), until healthy
//	POST_SCALE_UP      (instant)
//	TEST_TRAFFIC_SHIFT the test listener rule sends all test traffic to green
//	POST_TEST_TRAFFIC_SHIFT (instant)
//	PRODUCTION_TRAFFIC_SHIFT  BLUE_GREEN: all at once; LINEAR: stepPercent
//	                   every stepBakeTimeInMinutes; CANARY: canaryPercent,
//	                   canaryBakeTimeInMinutes later the rest
//	POST_PRODUCTION_TRAFFIC_SHIFT (instant)
//	BAKE_TIME          both run for bakeTimeInMinutes; blue takes no traffic
//	CLEAN_UP           blue is scaled in; the shift is over when it is gone
//
// A shift whose blue is its green (a rollback) sends every request to it
// and cleans the others up.

// ShiftInput is what the shift planner knows.
type ShiftInput struct {
	State   TrafficShift
	Times   ShiftTimes
	Desired int
	// Tasks are the service's live tasks (not stopping); Remains counts
	// each deployment's tasks not yet STOPPED (stopping ones too).
	Tasks   []PlanTask
	Remains map[string]int
	Now     time.Time
	// Minute is how long a minute of bake time lasts (time.Minute unless
	// a test scales time).
	Minute time.Duration
}

// ShiftPlan is one step of a shift.
type ShiftPlan struct {
	State TrafficShift
	Start int // green tasks to start
	// StartBlue is blue's tasks to start: blue is kept at the desired
	// count until CLEAN_UP, as green is.
	StartBlue int
	Stop      []StopOrder
	// WakeAt is when the plan changes with no task changing (a bake or a
	// step ends); zero: none.
	WakeAt time.Time
	// Done: the shift is over (blue and the others are gone); the
	// service's Traffic is cleared.
	Done bool
}

// PlanShift returns the next step of a shift. Blue is kept at the
// desired count as green is, until CLEAN_UP: a blue task that stops or
// fails its health checks during the shift or the bake is replaced (a
// rollback needs blue whole).
func PlanShift(in ShiftInput) ShiftPlan {
	p := planShift(in)
	st := p.State
	if st.Blue == "" || st.Blue == st.Green || st.Stage == StageCleanUp {
		return p
	}
	var blue []PlanTask
	for _, t := range in.Tasks {
		if !t.Stopping && t.Deployment == st.Blue {
			blue = append(blue, t)
		}
	}
	_, p.StartBlue = keepSet(&p, blue, in.Desired, scaleInReason(st.Green))
	return p
}

// keepSet keeps one deployment's live tasks at desired: it adds the
// stops of the failing and the extra ones (the least healthy and newest
// first, never a protected one) to p, and returns how many of the rest
// are healthy and how many tasks to start.
func keepSet(p *ShiftPlan, tasks []PlanTask, desired int, scaleIn string) (healthy, start int) {
	live := 0
	for _, t := range tasks {
		if t.Unhealthy {
			p.Stop = append(p.Stop, StopOrder{ID: t.ID, Reason: StopReasonUnhealthy})
			continue
		}
		live++
		if t.Healthy {
			healthy++
		}
	}
	if live > desired {
		extra := slices.Clone(tasks)
		slices.SortStableFunc(extra, func(x, y PlanTask) int {
			if x.Healthy != y.Healthy {
				if x.Healthy {
					return 1
				}
				return -1
			}
			return cmp.Compare(y.CreatedAt, x.CreatedAt)
		})
		n := live - desired
		for _, t := range extra {
			if n > 0 && !t.Unhealthy && !t.Protected {
				n--
				p.Stop = append(p.Stop, StopOrder{ID: t.ID, Reason: scaleIn})
				if t.Healthy {
					healthy--
				}
			}
		}
	}
	return healthy, max(0, desired-live)
}

func planShift(in ShiftInput) ShiftPlan {
	p := ShiftPlan{State: in.State}
	st := &p.State
	green, blue := st.Green, st.Blue
	if blue == "" {
		blue = green
	}
	if in.Minute <= 0 {
		in.Minute = time.Minute
	}
	byDep := map[string][]PlanTask{}
	for _, t := range in.Tasks {
		if !t.Stopping {
			byDep[t.Deployment] = append(byDep[t.Deployment], t)
		}
	}
	// Green is kept at the desired count in every stage: failing tasks
	// replaced, extra ones (a lower desired count) stopped.
	keepGreen := func() (healthy int) {
		healthy, p.Start = keepSet(&p, byDep[green], in.Desired, scaleInReason(green))
		return healthy
	}
	stopAll := func(dep string) {
		for _, t := range byDep[dep] {
			if !t.Protected {
				p.Stop = append(p.Stop, StopOrder{ID: t.ID, Reason: scaleInReason(green)})
			}
		}
	}
	othersLeft := false
	for dep, n := range in.Remains {
		if dep != green && dep != blue && n > 0 {
			othersLeft = true
			stopAll(dep)
		}
	}
	slices.SortFunc(p.Stop, func(a, b StopOrder) int { return cmp.Compare(a.ID, b.ID) })
	if blue == green {
		// A rollback (or a shift that became rolling): all traffic on
		// green at once, the others cleaned up.
		st.Stage, st.Production, st.Test = StageCleanUp, 100, 100
		keepGreen()
		p.Done = !othersLeft
		return p
	}
	advance := func(stage string) {
		st.Stage, st.StageAt = stage, in.Now
	}
	if st.Stage == StageReconcileService || st.Stage == "" {
		st.Production, st.Test = 0, 0
		if othersLeft {
			st.Stage = StageReconcileService
			return p
		}
		advance(StagePreScaleUp)
	}
	if st.Stage == StagePreScaleUp {
		advance(StageScaleUp)
	}
	healthy := keepGreen()
	if st.Stage == StageScaleUp {
		if healthy < in.Desired || p.Start > 0 {
			return p
		}
		advance(StagePostScaleUp)
	}
	if st.Stage == StagePostScaleUp {
		advance(StageTestTrafficShift)
		st.Test = 100
	}
	if st.Stage == StageTestTrafficShift {
		advance(StagePostTestTrafficShift)
	}
	if st.Stage == StagePostTestTrafficShift {
		advance(StageProductionTrafficShift)
		st.Production = min(100, in.Times.StepPercent)
	}
	if st.Stage == StageProductionTrafficShift {
		if p.WakeAt = shiftProduction(st, in); !p.WakeAt.IsZero() {
			return p
		}
		advance(StagePostProductionTrafficShift)
	}
	if st.Stage == StagePostProductionTrafficShift {
		advance(StageBakeTime)
	}
	if st.Stage == StageBakeTime {
		end := st.StageAt.Add(time.Duration(in.Times.Bake) * in.Minute)
		if in.Now.Before(end) {
			p.WakeAt = end
			return p
		}
		advance(StageCleanUp)
	}
	// CLEAN_UP: blue leaves.
	stopAll(blue)
	p.Done = !othersLeft && in.Remains[blue] == 0
	return p
}

// shiftProduction moves production traffic to green by one step (LINEAR)
// or all the rest (CANARY) once the step before baked. It returns when
// to look again while traffic is still shifting, zero once all of it is
// on green.
func shiftProduction(st *TrafficShift, in ShiftInput) time.Time {
	if st.Production >= 100 {
		return time.Time{}
	}
	next := st.StageAt.Add(time.Duration(in.Times.StepBake) * in.Minute)
	if in.Now.Before(next) {
		return next
	}
	st.Production = min(100, st.Production+in.Times.StepPercent)
	if in.Times.Canary {
		st.Production = 100 // the canary baked: the rest at once
	}
	if st.Production >= 99.95 {
		st.Production = 100
	}
	st.StageAt = in.Now
	if st.Production < 100 {
		return st.StageAt.Add(time.Duration(in.Times.StepBake) * in.Minute)
	}
	return time.Time{}
}

func scaleInReason(dep string) string { return fmt.Sprintf(StopReasonScaleIn, dep) }

// ShiftWeight turns green's traffic percent into the two weights of a
// weighted forward (ELBv2 weights are 0 to 999): per mille, with one
// group alone at 1.
func ShiftWeight(greenPercent float64) (green, blue int) {
	g := int(greenPercent*10 + 0.5)
	switch {
	case g <= 0:
		return 0, 1
	case g >= 1000:
		return 1, 0
	}
	return g, 1000 - g
}
