// Package testwait is the poll loop of the unit tests: it waits, with a
// deadline, for an event a test cannot be told of directly (the state of
// another goroutine, process or container), as the e2e tests' eventually
// does for theirs. A test waits on the event through it, not on a sleep.
package testwait
