// Package cwcp is CloudWatch's control plane: PutMetricData and the metric
// queries (statistics, metric math) over cwstore.Metrics, the alarms in
// cwstore.Repo, and the Evaluator, a leader-only reconciler that evaluates
// every alarm each (scaled) minute, then the composite alarms whose
// children changed, and invokes alarm actions through
// handlers registered by ARN prefix (Application Auto Scaling registers
// "arn:aws:autoscaling:"). Periods are CloudWatch seconds divided by the
// plane's TimeScale.
package cwcp
