// Package awslogs is the node side of ECS's awslogs log driver: it
// prepares a container's log group and stream before the container is
// created (creating the group only with awslogs-create-group "true", as
// ECS does), then follows the container's stdout and stderr through the
// driver and ships every line to CloudWatch Logs (PutLogEvents) in stream
// "awslogs-stream-prefix/container-name/task-id" of "awslogs-group".
//
// Each follower persists its position (the Docker timestamp of the last
// shipped line and how many lines at that timestamp were shipped) after
// every successful PutLogEvents, in a file per container under the state
// directory; a restarted agent resumes from it (Docker's "since" filter,
// then skipping what was shipped), so nothing is lost or sent twice.
// The Shipper owns its follower goroutines: Run stops and waits for them.
package awslogs
