// Package eksstore keeps EKS clusters in the state store (internal/store).
// Each cluster is one record, with its access entries and its updates, at
//
//	/eks/{account}/{region}/{cluster name}
//
// so that every change of a cluster (a status move, an access entry, an
// update) is one compare-and-swap on one key, and deleting the record
// removes all of it. The records are this package's own types (records.go),
// versioned by field names, not the domain's.
package eksstore
