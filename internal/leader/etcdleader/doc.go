// Package etcdleader is the leader.Elector of berth servers that share an
// etcd store: an election (go.etcd.io/etcd/client/v3/concurrency) under a
// key prefix of the store's namespace.
//
// Each Campaign opens a session (an etcd lease kept alive by the client)
// and campaigns with it: etcd orders the candidates by the creation
// revision of their keys, and the oldest leads. The returned context ends
// when the caller's context ends (the elector then resigns and revokes the
// lease, so another server leads at once) or when the session's lease is
// lost: the process was cut off from etcd for longer than the TTL, so its
// key expired and another candidate may already lead. A leader that is
// killed stops renewing its lease; the next candidate leads once the TTL
// has run out (Options.TTL, 5 s by default).
//
// Leadership in etcd is a lease, not a lock held by the writer: for a
// moment after a lost lease an old leader may still be finishing work it
// started. berth's leader-only controllers write through compare-on-
// revision transactions, so such a late write conflicts instead of
// overwriting the new leader's.
package etcdleader
