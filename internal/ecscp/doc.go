// Package ecscp is berth's ECS control plane: the operations that the API
// handlers (internal/ecsapi), the controllers and a future service
// scheduler call alike, in domain types (internal/ecs), never in wire
// shapes. A Plane runs and places tasks (RunTask, StartTask: validation
// by internal/ecs, launch type from the request or the cluster's capacity
// provider strategy, tags, placement by internal/placement), stops them,
// applies what agents report (task and container state changes, container
// health, agent versions), registers, drains and deregisters container
// instances and sets their attributes, stops the tasks of a lost agent
// (StopLostTask, for the disconnect reconciler), keeps the records of
// clusters, task definitions, tags and account settings, and answers the
// task reads from the state cache (internal/ecscache) after waiting until
// it holds every write acknowledged so far (read your writes).
//
// The composition root (internal/server) builds one Plane with New over
// the one repository, state cache and placer; the Plane starts no
// goroutine (the placer and the cache are run by their owner).
package ecscp
