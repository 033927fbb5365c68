// Package ecrapi serves the Amazon ECR API (awsJson1.1, target prefix
// AmazonEC2ContainerRegistry_V20150921): repositories, images, layer
// uploads, tag mutability, repository policies (enforced for other
// accounts), tags, GetAuthorizationToken and the registry authorizer that
// checks its tokens, and lifecycle policies with their background evaluator.
// Image and blob storage is package registry's; this package is the ECR
// control plane around it.
package ecrapi
