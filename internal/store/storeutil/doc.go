// Package storeutil holds the few helpers every repository over
// internal/store shares: decoding and encoding JSON records, mapping store
// errors to fault kinds, the compare-and-swap retry loop, and the
// generation-guarded commit that the scope-wide Update functions use.
package storeutil
