// Package logs is the CloudWatch Logs domain: log group and stream names,
// retention, the PutLogEvents batch rules and the filter-pattern language
// (terms, quoted phrases, ?alternatives, -exclusions, JSON selectors and
// space-delimited fields). It does no I/O; logstore keeps the data and
// logsapi maps the wire to it.
package logs
