// Package elbsync keeps the ELBv2 data plane (internal/elbproxy) in step
// with the ELBv2 records (internal/elbstore): a level-based controller
// that, on every change under the store's /elb/ prefix (and at start),
// reads the whole configuration, converts it to an elbproxy.Spec (spec.go,
// a pure function) and applies it; it marks load balancers active once
// their listeners are served, stores the health changes the proxy reports
// (coalesced per target, written by one goroutine), and removes draining
// targets when their deregistration delay has passed.
//
// It runs on the leader only (one server serves the listeners of a shared
// store), and makes a new proxy each time it starts, so a server that
// loses leadership closes its listeners.
package elbsync
