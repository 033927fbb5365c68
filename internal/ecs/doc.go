// Package ecs is berth's ECS domain core: clusters, task definitions, tasks,
// container instances and account settings as plain Go values, with the
// validation, defaults and state machines ECS applies. It does no I/O: no
// HTTP, no store, no driver. Time and IDs are inputs.
package ecs
