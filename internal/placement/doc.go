// Package placement places ECS tasks: a Placer keeps, as a subscriber of
// the state cache (internal/ecscache), every cluster's registered
// instances ready for the scheduler (view.go: scheduler.InstanceState per
// instance with its attribute index and its running-task count), and puts
// every Place call of a cluster through the cluster's plan queue
// (queue.go): calls are decided in arrival order on one snapshot and
// committed together in one transaction (ecsstore.CommitPlacement), and
// the next batch is planned on top of the batch whose fsync is running.
//
// Read your writes: a batch first waits until the cache holds every write
// the store has acknowledged (store.Revision), so a placement sees every
// stop, start or registration a client was told about before it called.
// Revisions that are the queue's own committed batches need no wait: the
// queue remembers what each wrote until the cache has applied it, and
// plans on top of that (as on the batch still in flight), so a busy
// cluster's placements never wait for the watch to deliver their own
// commits.
// The commit compares the cluster and every charged instance at the
// revisions the decision read: the view and the pipelining only ever cost
// a retry, never a wrong write.
//
// Ownership: the composition root builds the Placer with New (before the
// cache runs, so that the view sees the initial list) and runs Run; the
// queue workers and in-flight commits are the Placer's goroutines, started
// with Run's context and waited for when Run returns. There is no
// package-level state. The decisions themselves are the caller's (a
// decide function over an Input; internal/ecscp uses the pure
// internal/scheduler).
package placement
