// Package secretscp is the control plane of Secrets Manager and SSM
// Parameter Store: every operation in domain terms over secretstore, and
// Resolve, which turns a task definition's `secrets[].valueFrom` into the
// value an ECS agent injects as an environment variable.
package secretscp
