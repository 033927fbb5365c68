// Package etcd is berth's etcd state store: an implementation of
// store.Store on an etcd v3 cluster (go.etcd.io/etcd/client/v3), so that
// several berth servers can share one state and elect one leader
// (internal/leader/etcdleader).
//
// # Mapping
//
// A berth key k is the etcd key Namespace+k (Options.Namespace,
// "/berth" by default). berth revisions are etcd's revisions:
// CreateRevision and ModRevision are etcd's, a Txn returns the etcd header
// revision.
//
// etcd's revision counter is cluster-wide, so a write outside the
// namespace (another deployment, a Kubernetes API server) moves Revision
// and a List's revision to a revision at which berth's watches see no
// event. So that a consumer waiting for such a revision (the state
// cache's Sync) gets there, the store asks etcd for watch progress while
// a watch is behind a revision it handed out, and delivers etcd's
// progress notifications as store.EventProgress (progress.go).
//
//   - Get, List: linearizable range reads; a List is one range request
//     (StartAfter becomes the range start, Limit etcd's limit) and its
//     revision is the response header's, so keys and revision are one
//     snapshot.
//   - Txn: one etcd Txn. A Compare with ModRevision n is
//     ModRevision(key) = n (0: the key does not exist); a prefix Compare
//     is ModRevision < n+1 over the prefix range, which etcd evaluates
//     for every key in the range (an empty range holds). A failed compare
//     is store.ErrConflict; nothing was written.
//   - Watch: an etcd watch over the prefix range from fromRev+1, after a
//     point read at that revision that settles ErrCompacted (and for
//     fromRev 0 fixes "now"); see Watch.
//   - Durability: etcd answers a Txn after a quorum has it in its fsync'd
//     raft log, and applies it before later linearizable reads and
//     watches see it, so an acknowledged Txn is durable and read-your-
//     writes holds for Get, List and Revision on any member.
//
// etcd limits a transaction to --max-txn-ops operations (128 by default)
// and a request to --max-request-bytes (1.5 MiB); berth's placement
// batches (up to 64 RunTask calls in one Txn) can exceed the first, so an
// external etcd should run with --max-txn-ops=4096 (internal/etcdserver
// does so); a Txn over either limit fails with an error naming the flag.
package etcd
