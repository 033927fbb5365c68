// Package eksauth is the webhook token authenticator of EKS clusters, as
// AWS's aws-iam-authenticator does it: a bearer token from `aws eks
// get-token` ("k8s-aws-v1." + a base64url presigned STS GetCallerIdentity
// URL that also signs the x-k8s-aws-id header with the cluster name) is
// verified with berth's own SigV4 verifier, and the caller is mapped to a
// Kubernetes user and groups through the cluster's access entries
// (authenticationMode API and API_AND_CONFIG_MAP). It answers the
// TokenReview requests a kube-apiserver sends to an authentication
// webhook (authentication.k8s.io/v1), in plain JSON, without linking
// Kubernetes.
package eksauth
