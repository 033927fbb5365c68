// Package bolt is berth's embedded state store: an implementation of
// store.Store in a single bbolt file (go.etcd.io/bbolt), for single-server
// berth.
//
// # On-disk layout
//
// The file holds three buckets:
//
//	meta  "version" -> format version (uint64 big-endian, currently 1)
//	      "rev"     -> current store revision
//	      "compact" -> highest revision whose watch history was discarded
//	                   (a new file starts with rev = compact = 1)
//	kv    <key>     -> createRev (8 bytes BE) | modRev (8 bytes BE) | value
//	log   <rev>     -> the events of that revision (8-byte BE key, so the
//	                   bucket iterates in revision order)
//
// Every committed Txn that changes something increments "rev", updates kv
// and appends one log entry in the same bbolt transaction, so the key
// space, the revision and the history can never disagree, not even after a
// crash. The log keeps the last Options.HistoryLimit revisions (entries,
// not events; a Txn of five ops is one entry); older entries are deleted in
// the same transaction and "compact" records the cut. Watch below the cut
// returns store.ErrCompacted. Store.Compact discards history explicitly.
//
// # Writes and durability
//
// bbolt allows one writer at a time and every commit costs an fsync, so
// Txns are group-committed: Txn hands its request to a single committer
// goroutine, which takes every request already waiting and applies them,
// in arrival order, inside one bbolt Update. Each request is still
// evaluated on its own: its compares see the effects of the requests before
// it, it gets its own revision and log entry, and a failed compare skips
// just that request. Callers are answered only after the Update, including
// its fsync, returned, so an acknowledged Txn survives kill -9 and power
// loss; a lone writer pays no batching delay, and concurrent writers share
// fsyncs. If the Update fails for a batch of several requests, each is
// retried in a transaction of its own so that one bad request cannot fail
// the others. A batch that changes nothing is rolled back instead of
// committed, so failed compares and no-op Txns cost no fsync.
//
// Reads (Get, List) are plain bbolt read transactions and never wait for
// writers. A reader may observe a commit while its final fsync is still in
// flight; the acknowledgement to the writer and the delivery to watchers
// always wait for it.
//
// # Watch delivery
//
// Watchers pull from the durable log instead of being pushed to by the
// writer. After each commit the committer publishes the new revision and
// closes a broadcast channel; that is all the writer does for watchers, so
// it never blocks on, or allocates for, a slow consumer. Each watcher is a
// goroutine that remembers the last revision it delivered, and whenever the
// published revision is ahead, reads the missing log entries (a bounded
// batch per short read transaction, never held open while sending), filters
// them by prefix and sends them on the caller's channel. Because the log is
// keyed by revision and only published revisions are read, a watch
// delivers exactly the events with revision > fromRev, in order, with no
// gap and no duplicate, whatever writers do during setup; a consumer that
// reads slowly only delays itself and loses nothing while its position is
// still in the log.
//
// A consumer that stops reading for so long that more than HistoryLimit
// revisions are committed past its position cannot be served any more: its
// channel is closed although its context is still live, and it re-lists
// and watches again (the same recovery as for ErrCompacted). Memory per
// watcher is bounded by its channel buffer plus one read batch.
//
// Close stops the committer after in-flight Txns have been answered, ends
// every watch (closing the channels), and closes the file. Operations after
// Close return store.ErrClosed.
package bolt
