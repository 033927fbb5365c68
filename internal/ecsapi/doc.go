// Package ecsapi serves the Amazon ECS API (awsJson1.1, target prefix
// AmazonEC2ContainerServiceV20141113): wire shapes, their conversion to the
// domain types of package ecs, and one handler per action. Each handler
// decodes, calls one operation of the control plane (internal/ecscp), and
// maps its domain result back to the wire shape; none touches the store or
// Docker.
package ecsapi
