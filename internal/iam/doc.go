// Package iam is the domain of IAM and STS: roles, users, access keys,
// managed and inline policies, instance profiles, OpenID Connect
// providers and temporary (assumed-role) sessions, their ARNs and IDs,
// and the AWS-managed policies berth knows by name. It does no I/O.
// IAM is global: its ARNs carry no region.
package iam
