// Package store defines berth's state-store contract: a revision-based
// key-value store with compare-and-swap transactions and watches, which the
// embedded bbolt backend implements today and an etcd backend will implement
// for multi-server berth. See the package documentation body (below) and
// docs/state-store.md for the rules and the key layout.
package store
