// Package ecsapi serves the Amazon ECS API (awsJson1.1, target prefix
// AmazonEC2ContainerServiceV20141113): wire shapes, their conversion to the
// domain types of package ecs, and one handler per action. Each handler
// decodes, validates through the domain, runs one store transaction through
// ecsstore and encodes; none talks to Docker.
package ecsapi
