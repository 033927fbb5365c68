// Package cw is the pure domain of CloudWatch metrics and alarms: metric
// identities, datapoints and their per-period statistics, metric math, and
// the alarm state machine (M out of N evaluation, missing-data treatment,
// AWS's state reasons), and composite alarm rules (ParseRule) with their
// reasons. It does no I/O; cwstore keeps metrics and alarms,
// cwcp runs them, cwapi speaks the wire.
package cw
