// Package ecsstore keeps ECS domain objects in the state store: typed reads,
// and writes as single compare-and-swap transactions that retry on conflict.
// It owns the ECS part of the key layout described in internal/store. It
// validates nothing (the domain does) and calls no clock (callers pass now).
//
// # Placement
//
// A registered container instance is two records: the instance
// (instances/, about 5 KB with ECS's default attributes) and its state
// (instance-state/: remaining resources, version, the groups of its tasks,
// some 60 bytes in a compact binary form, statecodec.go), which is all
// that placing or stopping a task rewrites (instances.go). Tasks are stored
// without what their ARN already says (taskcodec.go); readers that only
// read them share tasks decoded once per revision.
//
// CreateTasks places on a placement view (view.go): every cluster's
// instances in memory, each already in the scheduler's form, kept current by
// this package's own writes (applied before they return) and by a watch of
// the store. A placement waits only for writes of its cluster that are
// still in flight, since a bbolt commit is visible to readers while its
// fsync runs. The view also counts each instance's running tasks, so that
// the cluster query language's runningTasksCount is the instance's true
// count in placement, as DescribeContainerInstances reports it.
// Concurrent CreateTasks calls of a cluster go through its placement queue
// (placequeue.go), which plans them in arrival order and commits them in
// one transaction, planning the next batch while the previous one's fsync
// runs. Every commit compares the revisions of the
// records its decisions charged, so the view and the pipelining only ever
// cost a retry, never a wrong write.
package ecsstore
