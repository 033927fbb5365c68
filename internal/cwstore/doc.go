// Package cwstore keeps CloudWatch data: Metrics, the on-disk metric store
// (one append-only file of fixed-size aggregate records per metric, with
// bounded retention), and Repo, the alarms and their history in the state
// store.
package cwstore
