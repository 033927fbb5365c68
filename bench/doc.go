// Package bench holds berth's benchmark programs (bench/ecsapi,
// bench/registry, bench/startlatency, bench/elbproxy, bench/exec, bench/cloudwatch,
// bench/autoscaling), each a main package run with
// `go run ./bench/NAME` from the repository root. Its test runs every
// benchmark command that README.md and docs/ give, as written, with flags
// appended that make the run tiny, so that a command a reader copies works.
// bench/stats holds the figures they share (percentiles, medians, the load
// average).
package bench
