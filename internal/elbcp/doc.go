// Package elbcp is the Elastic Load Balancing v2 control plane: every
// ELBv2 operation in domain terms (package elb in and out), validated by
// the domain and committed through elbstore in one transaction each. The
// API handlers (internal/elbapi) call it, and so do other subsystems: the
// ECS services controller registers and deregisters task targets and reads
// their health (RegisterTargets, DeregisterTargets, TargetHealth,
// TargetGroup), and the data-plane controller reports health
// (ReportHealth), finishes drains (SweepDrained) and marks load balancers
// active once they are served (MarkActive).
package elbcp
