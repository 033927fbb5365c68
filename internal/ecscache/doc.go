// Package ecscache is berth's one in-memory copy of the ECS state: an
// informer, in controller-runtime's sense, over the state store.
//
// A Cache lists the store, then watches it from the list's revision, and
// re-lists when the watch cannot continue (store.ErrCompacted, or a watch
// channel that closes while the cache still runs). It decodes each record
// of the ECS key space once per change (tasks, registered instances with
// their instance-state records, managed instances, clusters) and keeps the
// decoded objects, shared and read-only: nothing a getter returns may be
// modified. A task is held as a TaskEntry: its header (ARN, instance,
// launch type, last and desired status, stoppedAt and stoppedReason: what
// the indexes, placement's running counts and the controllers' decisions
// read) is decoded when the change is applied, the whole task on the
// first read of that revision (TaskEntry.Task, once, safe for concurrent
// readers). A record whose header decodes but whose rest does not is
// logged and absent to the reads of whole tasks (Task, Tasks,
// InstanceTasks), though its entry is held. It watches the whole store ("/"), so that every revision the
// store acknowledges reaches it, also one that wrote only keys outside
// /ecs/ (tags, ECR): its Revision catches up with store.Revision.
//
// # Lifecycle
//
// The composition root builds one Cache with New, registers the
// subscribers (Subscribe, before Run), and runs Run on a goroutine it owns:
// Run returns when its context ends (nil) or the store closes. Getters may
// be called at any time; before the first list they see an empty cache
// and Revision is 0.
//
// # Read your writes
//
// The store contract (internal/store, rule 6) says: once a Txn returned
// revision R, a Watch delivers R. The cache's Revision is the last
// revision whose every event it has applied (store.Event.Last ends a
// revision). So:
//
//   - a reader that must see its own write waits with WaitForRevision(ctx, R),
//     R being the revision the Txn returned;
//   - a reader that must see everything acknowledged so far (DescribeTasks
//     after another client's StopTask) waits with Sync(ctx), which is
//     WaitForRevision(store.Revision()).
//
// The cache only sees durable revisions (watchers do), so it never shows a
// write that a crash could still lose.
//
// # Subscribers
//
// Subscribe registers Handlers (function fields, any of them nil). The Run
// goroutine calls them for every change it applies, in revision order and,
// within a revision, in the store's op order, with the old and new object
// (nil old: created; nil new: deleted), after the object is in the cache
// and before Revision moves past the change's revision. Then it calls
// Handlers.Revision(R) once the whole revision R is applied. The initial
// list, and a re-list, reach subscribers as the changes from what they had
// seen (so they never need to re-read). Handlers must be quick and must not
// block on the cache's progress (they run on the cache's goroutine: calling
// WaitForRevision from one deadlocks); they keep derived indexes
// (placement's per-instance view, a controller's queue).
package ecscache
