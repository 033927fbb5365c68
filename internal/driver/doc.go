// Package driver defines the container driver layer that berth's agent uses
// to run ECS tasks on the local machine.
//
// The [Driver] interface is owned by its consumer (the agent) but lives here
// so that every implementation can be checked against it at compile time:
//
//	var _ driver.Driver = (*docker.Driver)(nil)
//
// It is deliberately narrow and expressed in ECS terms rather than Docker
// terms: images are pulled with optional registry basic auth, each awsvpc task
// gets a [TaskNetwork] (its own network namespace and private IPv4 address),
// containers are created from a [ContainerSpec], observed through
// [ContainerState] snapshots and a [ContainerEvent] stream, and stopped with
// a SIGTERM-then-SIGKILL timeout.
//
// Task-level limits (ECS task cpu and memory, e.g. a Fargate task size)
// are [TaskResources] on each of the task's ContainerSpecs: the containers
// share them, as in one cgroup per task, and
// [TaskResourceManager.RemoveTaskResources] releases them once the task's
// containers are gone (PruneTaskResources, those of tasks whose containers
// went without it).
//
// Capabilities that not every driver can offer are separate, optional
// interfaces (for example [LogReader]); discover them with a type assertion.
//
// # Implementations
//
// Each driver package exports a [Factory] (docker.Open, fake.Open). The
// composition root (internal/server) builds a [Registry] value, registers
// the drivers it links by name, and opens the one the configuration names,
// in the same spirit as the storage driver factory of the distribution
// registry but without package-level state:
//
//	drivers := driver.NewRegistry()
//	drivers.Register("docker", docker.Open)
//	d, err := drivers.Open("docker", driver.Config{Logger: logger})
//
// Registering a name twice panics; an unknown name is an
// [*UnknownDriverError].
//
// The implementations are:
//
//   - internal/driver/docker: the real thing, on the Docker Engine API.
//   - internal/driver/fake: an in-memory driver for scheduler tests and
//     benchmarks; containers "run" instantly and tests script their fate.
//
// Every implementation runs the conformance suite in
// internal/driver/drivertest.
//
// # Labels and re-adoption
//
// The agent labels every container with [LabelTaskARN], [LabelContainerName],
// [LabelCluster] and [LabelInstance] so that after a restart it can find its
// containers again with [ContainerManager.ListContainers]. Drivers may add
// their own labels under the "berth.driver." prefix; they never remove or
// change the caller's.
//
// # Errors
//
// Errors that callers need to branch on wrap the sentinels [ErrNotFound] and
// [ErrConflict] (test with errors.Is). A failed pull is a [*PullError] whose
// Message is the registry or daemon's own words, ready for the agent to
// report as "CannotPullContainerError: <message>".
package driver
