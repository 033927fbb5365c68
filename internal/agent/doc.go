// Package agent is berth's container instance agent. It speaks ECS's own
// agent protocol to the control plane: RegisterContainerInstance and
// DiscoverPollEndpoint over the signed ECS API, an ACS websocket session
// (internal/acs) on which it receives the tasks to run or stop, in ACS's
// Task shape, which it reads back into the task definition its runner
// runs (nothing berth-specific travels in the payload), and
// SubmitTaskStateChange to report what its runner (internal/runner)
// observes. `berth agent` runs one on a host, and the server runs the same
// code in-process, over loopback, as the managed (Fargate) capacity.
//
// Everything is retried and level-based: registration and the ACS session
// reconnect with backoff; on every new session the control plane sends the
// instance's whole task set again; reports are coalesced per task (the
// latest state wins) and resent until acknowledged; after a restart the
// agent re-registers as the same instance (its ARN is kept in DataDir) and
// the runner adopts the containers it finds, so nothing runs twice.
//
// It registers with the capabilities its runner really has
// (ecs.BerthAgentCapabilities, Docker API versions capped at the
// daemon's).
//
// A report that changes the task's lastStatus or healthStatus (as the
// control plane last acknowledged them) is sent at once; one that only adds details (pull times, runtime
// IDs, bindings) waits up to a second, usually to ride along with the next
// status change, so that a task that starts quickly is reported once,
// RUNNING, with nothing competing with its start. Reports of different
// tasks are sent concurrently (up to 8), one at a time per task.
package agent
