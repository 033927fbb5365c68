// Package store defines berth's state-store contract: a revision-based
// key-value store with compare-and-swap transactions and watches, which the
// embedded bbolt backend (internal/store/bolt, one server) and the etcd
// backend (internal/store/etcd, several servers on one etcd) implement. See the package documentation body (below) and
// docs/state-store.md for the rules and the key layout.
//
// # Revisions
//
// The store keeps one store-wide revision counter, which is at least 1
// even in a new, empty store: a List revision is therefore never 0, which
// Watch would read as "from now" (and so miss writes made between the List
// and the Watch). Every Txn that changes at least one key increments it by
// exactly one, and all writes of that Txn share the new revision: each
// written key's KV.ModRevision is set to it, and a key created by the Txn
// also gets it as KV.CreateRevision, which then stays fixed until the key
// is deleted (a re-created key gets a new one). A Txn that changes nothing
// (no ops, or only deletes of missing keys) leaves the revision unchanged
// and returns the current one. Revisions are
// never reused, also not across restarts.
//
// # Rules
//
//  1. Compare-on-revision transactions. Writers never blindly overwrite
//     shared state: read the key (Get or List), compute the new value, and
//     Txn with a Compare on the ModRevision that was read (ModRevision 0 for
//     "must not exist yet"). On ErrConflict nothing was written; re-read and
//     retry. A Txn's ops are applied all-or-nothing and must name distinct
//     keys (a duplicate key fails the Txn with ErrInvalidArgument).
//     A prefix Compare (Compare.Prefix) guards a decision taken from a
//     scan: it fails if any key under the prefix was created or changed
//     after the revision the scan saw.
//
//  2. Watch from a revision. Controllers List a prefix, remember the list's
//     revision, and Watch the prefix from that revision: the watch then
//     delivers every change after the snapshot, in revision order, with no
//     gap and no duplicate, even while other writers are active. A Watch
//     from a revision older than the retained history fails with
//     ErrCompacted; the caller re-lists and watches from the new list
//     revision. A watch channel that closes while the caller's context is
//     still live means the watch could not continue (the store closed, or
//     the consumer fell behind retained history); handle it the same way.
//     Events of one Txn share its revision and come in op order. A put
//     event carries the full KV; a delete event carries the key, the
//     delete's revision as ModRevision, a nil Value and CreateRevision 0.
//
//  3. Copy before mutate. Every KV.Value handed out by Get, List or a watch
//     Event is a fresh copy owned by the caller, and the store copies the
//     Op.Value slices it is given before Txn returns. Neither side may
//     assume sharing; mutating a returned slice never changes the store.
//
//  4. Deterministic writes. Store writes never call time.Now, generate
//     random IDs or consult any other ambient state: callers compute
//     timestamps, ARNs and IDs before calling Txn and put them in the value,
//     so that a retried Txn writes exactly what was decided and replicated
//     backends can replay it.
//
//  5. Durable acknowledgement. A nil error from Txn means the write is
//     durable (fsync'd by the embedded backend, quorum-committed by etcd): a
//     crash or kill -9 immediately afterwards must not lose it. Watchers see
//     a change only once it is durable.
//
//  6. Read your writes. Once Txn has returned revision R (to anyone):
//     Get and List see R or later (a List's revision is >= R), Revision
//     returns R or more, and every Watch whose range covers R's keys and
//     that started before R delivers R's events, in order, each revision's
//     last one with Event.Last set. Nothing more is promised: a backend may
//     let Get and List see a write a moment before its Txn returns (bbolt
//     does, while the fsync runs); a reader that must only act on
//     acknowledged state reads through the state cache (internal/ecscache),
//     which applies watch events only. A cache reader that must see its
//     own write R waits with WaitForRevision(R); one that must see
//     everything acknowledged so far waits for Revision()'s value (the
//     cache's Sync). The conformance suite checks this (ReadYourWrites,
//     WatchLastOfRevision).
//
// # Key layout
//
// Keys are '/'-separated strings that start with '/' (a Txn with any
// other key fails with ErrInvalidArgument; a List or Watch prefix that
// does not start with '/' matches nothing, "" matches everything, which
// lets the etcd backend put the keys under a namespace); values are
// opaque bytes to the store
// (each holds the encoded record of one resource). The trees:
//
//	/ecs/<account>/<region>/...   ECS records (internal/ecsstore)
//	/ecr/<account>/<region>/...   ECR records
//	/tags/<resourceArn>           tags of any ECS/ECR resource
//	/meta/...                     server-wide records
//
// The one table of every key, with what each record holds, is in
// docs/state-store.md ("Key layout").
//
// For example, task definition "web:7" in account 000000000000 and region
// us-east-1 is at "/ecs/000000000000/us-east-1/taskdefs/web/0000000007".
// Because List returns keys in ascending byte order, zero-padded revisions
// sort numerically, and each per-cluster, per-family or per-repository
// subtree can be listed or watched with one prefix, e.g.
// "/ecs/000000000000/us-east-1/tasks/default/". Prefixes should end in '/'
// so that cluster "a" does not match cluster "ab". For the same reason no
// segment but the last may contain '/': a value that can (an ECR repository
// name such as "team/app", a principal ARN in settings/) is escaped with
// url.PathEscape. The last segment, such as the resource ARN of a /tags/
// key, is used verbatim.
package store
