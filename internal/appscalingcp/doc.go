// Package appscalingcp is the Application Auto Scaling control plane:
// scalable targets, scaling policies, scheduled actions and activities
// over appscalingstore, and the scaling itself: it reads and sets an ECS
// service's desired count through the Services interface (the ECS
// control plane in the server), bounded by the target's range, its
// suspended state and the policies' cooldowns.
//
// Dynamic scaling enters through Execute (what a CloudWatch alarm action
// calls with the alarm that fired and the metric it saw). Target
// tracking policies create and delete their high and low alarms through
// the optional Alarms interface (CloudWatch). Scheduled actions are run
// by the Scheduler, a leader-only runnable that sleeps until the next
// action is due.
package appscalingcp
