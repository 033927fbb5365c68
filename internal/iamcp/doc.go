// Package iamcp is the IAM and STS control plane: it validates requests
// against the domain (internal/iam, internal/iampolicy), applies them to
// an account's state through iamstore in one transaction, issues access
// keys and temporary credentials, answers the SigV4 verifier's key
// lookups (KeySource) and evaluates identity policies for
// `berth server --enforce-iam` (Authorize). Server certificates are
// checked, stored with their keys sealed, and refused deletion or rename
// while a load balancer uses them (SetCertificateUsers).
package iamcp
