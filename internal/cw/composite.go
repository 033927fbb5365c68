package cw

import (
	"encoding/json"
	"fmt"
	"time"
)

// ChildState is a composite alarm's child as its reasons show it.
type ChildState struct {
	ARN   string
	State string
	Time  time.Time // when the child entered State
}

// reasonClock is the time format of a composite alarm's reason sentence
// ("Friday 22 July, 2022 15:57:45 UTC").
const reasonClock = "Monday 02 January, 2006 15:04:05 UTC"

// CompositeConfigReason is the reason of a composite alarm whose state is
// set by evaluating its rule after it was created or updated: "<arn> was
// created and its alarm rule evaluates to OK".
func CompositeConfigReason(arn, state string, updated bool) string {
	verb := "created"
	if updated {
		verb = "updated"
	}
	return fmt.Sprintf("%s was %s and its alarm rule evaluates to %s", arn, verb, state)
}

// CompositeChildReason is the reason of a composite alarm whose state
// changed because a child did: "<child arn> transitioned to ALARM at
// Friday 22 July, 2022 15:57:45 UTC".
func CompositeChildReason(c ChildState) string {
	return fmt.Sprintf("%s transitioned to %s at %s", c.ARN, c.State, c.Time.UTC().Format(reasonClock))
}

// CompositeReasonData is the reason data of a composite alarm: the
// children that hold it in its state ({"triggeringAlarms":[{"arn":...,
// "state":{"value":"ALARM","timestamp":...}}]}).
func CompositeReasonData(triggering []ChildState) string {
	type state struct {
		Value     string `json:"value"`
		Timestamp string `json:"timestamp"`
	}
	type child struct {
		ARN   string `json:"arn"`
		State state  `json:"state"`
	}
	d := struct {
		TriggeringAlarms []child `json:"triggeringAlarms"`
	}{TriggeringAlarms: []child{}}
	for _, c := range triggering {
		d.TriggeringAlarms = append(d.TriggeringAlarms, child{ARN: c.ARN, State: state{Value: c.State, Timestamp: c.Time.UTC().Format(awsTime)}})
	}
	b, _ := json.Marshal(d)
	return string(b)
}
