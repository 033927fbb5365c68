// Package appscaling is the domain of Application Auto Scaling for ECS
// services (the ecs:service:DesiredCount dimension): scalable targets,
// scaling policies (target tracking and step scaling), scheduled actions
// and scaling activities, with their validation, the capacity arithmetic
// AWS documents (capacity.go) and the schedule expressions cron(...),
// rate(...) and at(...) with time zones (schedule.go).
//
// It does no I/O: time comes in as arguments, IDs are made by the caller.
package appscaling
