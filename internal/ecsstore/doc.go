// Package ecsstore keeps ECS domain objects in the state store: typed reads,
// and writes as single compare-and-swap transactions that retry on conflict.
// It owns the ECS part of the key layout described in internal/store. It
// validates nothing (the domain does) and calls no clock (callers pass now).
package ecsstore
