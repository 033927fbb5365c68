// Package ecsstore keeps ECS domain objects in the state store: typed reads,
// and writes as single compare-and-swap transactions that retry on conflict.
// It owns the ECS part of the key layout (docs/state-store.md) and the
// records' encodings. It validates nothing (the domain does), calls no
// clock (callers pass now), keeps no view of the state (the state cache,
// internal/ecscache, does, with the decoders of records.go) and starts no
// goroutine.
//
// # Records
//
// Every record is written from a type of this package, never from a
// domain struct (taskRecord, containerInstanceRecord, clusterRecord,
// taskDefinitionRecord, serviceRecord, tagRecord, StateRecord,
// tokenRecord, familyRecord), mapped to and from the domain explicitly
// (recordtypes.go): a change to internal/ecs changes no stored format
// until its mapping does. testdata/records holds a sample of each JSON
// kind that a test decodes and re-encodes byte for byte.
//
// # Instances and placement
//
// A registered container instance is two records: the instance
// (instances/, about 5 KB with ECS's default attributes) and its state
// (instance-state/: remaining resources, version, the groups of its tasks,
// some 60 bytes in a compact binary form, statecodec.go), which is all
// that placing or stopping a task rewrites (instances.go). Tasks are stored
// without what their ARN already says (taskcodec.go).
//
// Placement (internal/placement) decides on the state cache and commits
// through CommitPlacement (placement.go): the tasks, their tags and client
// tokens and the charged instances' new state records in one transaction
// that compares the cluster record and both records of every charged
// instance at the revisions the decision read, so a stale input costs a
// retry, never a wrong write.
package ecsstore
