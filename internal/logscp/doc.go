// Package logscp is the CloudWatch Logs control plane: it applies the
// rules of package logs to the data of logstore (group and stream
// lifecycle, retention and tags, PutLogEvents, GetLogEvents' tokens,
// FilterLogEvents' interleaved scan) and runs the retention reconciler.
package logscp
