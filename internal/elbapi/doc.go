// Package elbapi serves the Elastic Load Balancing v2 API (awsQuery,
// version 2015-12-01): it maps the wire shapes (wire.go) to calls of the
// control plane (internal/elbcp) and the domain's results back; errors
// carry ELBv2's own codes (LoadBalancerNotFound, PriorityInUse, ...).
package elbapi
