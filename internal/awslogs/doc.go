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
// A batch CloudWatch Logs refuses for good after the task started (its
// group deleted and not to be created again, AccessDeniedException under
// --enforce-iam, ...) is dropped and the follower goes on, as Docker's
// awslogs driver does (it logs the PutLogEvents error and moves to the
// next batch, in blocking and non-blocking mode alike: the modes only
// decide whether a container waits when the driver's buffer is full);
// ECS shows nothing of it on the task. The shipper logs it at error
// level, counts it (Dropped) and tells Config.OnDropped. Transient
// failures (throttling, a server that does not answer) are retried.
//
// The Shipper owns its follower goroutines: Run stops and waits for them.
package awslogs
