package appscaling

import (
	"fmt"
	"time"
)

// ScheduledAction changes a target's capacity range on a schedule.
type ScheduledAction struct {
	Key
	Name        string
	ID          string
	Schedule    string
	Timezone    string
	Start, End  time.Time // zero: unbounded
	MinCapacity *int
	MaxCapacity *int
	Created     time.Time
	LastRun     time.Time // when it last fired (zero: never)
}

// ARN is the scheduled action's ARN.
func (a *ScheduledAction) ARN(sc Scope) string {
	return fmt.Sprintf("arn:aws:autoscaling:%s:%s:scheduledAction:%s:resource/%s/%s:scheduledActionName/%s",
		sc.Region, sc.Account, a.ID, a.Namespace, a.ResourceID, a.Name)
}

// Parse validates the action and returns its schedule.
func (a *ScheduledAction) Parse() (*Schedule, error) {
	if err := ValidateKey(a.Key); err != nil {
		return nil, err
	}
	if a.Name == "" || len(a.Name) > 256 {
		return nil, Validationf("ScheduledActionName must be 1 to 256 characters long")
	}
	if a.Schedule == "" {
		return nil, Validationf("Schedule is required for a new scheduled action")
	}
	if a.MinCapacity == nil && a.MaxCapacity == nil {
		return nil, Validationf("ScalableTargetAction must set MinCapacity, MaxCapacity or both")
	}
	if a.MinCapacity != nil && a.MaxCapacity != nil && *a.MinCapacity > *a.MaxCapacity {
		return nil, Validationf("Minimum capacity cannot be greater than maximum capacity")
	}
	for _, c := range []*int{a.MinCapacity, a.MaxCapacity} {
		if c != nil && (*c < 0 || *c > MaxCapacityLimit) {
			return nil, Validationf("Capacity must be between 0 and %d", MaxCapacityLimit)
		}
	}
	if !a.Start.IsZero() && !a.End.IsZero() && !a.End.After(a.Start) {
		return nil, Validationf("EndTime must be after StartTime")
	}
	return ParseSchedule(a.Schedule, a.Timezone)
}

// Due returns the time the action fires next after its last run (or its
// creation) and whether it ever does. A one-time at() action that has not
// run fires even if its time passed before it was put (at once).
func (a *ScheduledAction) Due(s *Schedule) (time.Time, bool) {
	if s.cron == nil && s.rate == 0 && a.LastRun.IsZero() {
		return s.at, true
	}
	from := a.LastRun
	if from.IsZero() {
		from = a.Created.Add(-time.Nanosecond)
		if a.Start.After(from) {
			from = a.Start.Add(-time.Nanosecond)
		}
	}
	anchor := a.Created
	if !a.Start.IsZero() {
		anchor = a.Start
	}
	return s.Next(from, anchor, a.End)
}

// ApplyRange applies the action's new range to t (a copy) and returns
// it; a minimum above the maximum raises the maximum, as AWS does when
// only one side is given.
func (a *ScheduledAction) ApplyRange(t Target) Target {
	if a.MinCapacity != nil {
		t.MinCapacity = *a.MinCapacity
	}
	if a.MaxCapacity != nil {
		t.MaxCapacity = *a.MaxCapacity
	}
	if t.MinCapacity > t.MaxCapacity {
		if a.MinCapacity != nil && a.MaxCapacity == nil {
			t.MaxCapacity = t.MinCapacity
		} else {
			t.MinCapacity = t.MaxCapacity
		}
	}
	return t
}

// RangeDescription is the activity description of a scheduled action.
func (a *ScheduledAction) RangeDescription() string {
	switch {
	case a.MinCapacity != nil && a.MaxCapacity != nil:
		return fmt.Sprintf("Setting min capacity to %d and max capacity to %d", *a.MinCapacity, *a.MaxCapacity)
	case a.MinCapacity != nil:
		return fmt.Sprintf("Setting min capacity to %d", *a.MinCapacity)
	}
	return fmt.Sprintf("Setting max capacity to %d", *a.MaxCapacity)
}

// Activity is a scaling activity.
type Activity struct {
	Key
	ID            string
	Description   string
	Cause         string
	Start, End    time.Time
	Status        string // Pending, InProgress, Successful, Overridden, Unfulfilled, Failed
	StatusMessage string
	NotScaled     []NotScaledReason
}

// NotScaledReason says why a dynamic evaluation did not scale.
type NotScaledReason struct {
	Code              string
	Min, Max, Current *int
}

// Activity status codes.
const (
	StatusSuccessful = "Successful"
	StatusFailed     = "Failed"
	StatusInProgress = "InProgress"
)

// DesiredCountDescription and the causes are AWS's wording.
func DesiredCountDescription(n int) string { return fmt.Sprintf("Setting desired count to %d.", n) }

// AlarmCause is the cause of a policy run by an alarm.
func AlarmCause(alarm, state, policy string) string {
	return fmt.Sprintf("monitor alarm %s in state %s triggered policy %s", alarm, state, policy)
}

// ScheduledCause is the cause of a scheduled action's range change.
func ScheduledCause(name string) string {
	return fmt.Sprintf("scheduled action name %s was triggered", name)
}

// MinCause and MaxCause are the causes of bringing the count into a new range.
func MinCause(n int) string { return fmt.Sprintf("minimum capacity was set to %d", n) }
func MaxCause(n int) string { return fmt.Sprintf("maximum capacity was set to %d", n) }

// SucceededMessage is the status message of a successful desired-count change.
func SucceededMessage(n int) string {
	return fmt.Sprintf("Successfully set desired count to %d. Change successfully fulfilled by ecs.", n)
}
