// Package iamstore keeps IAM and STS objects in the state store
// (internal/store) as records of its own (records.go), under
//
//	/iam/<account>/gen                    write generation of the account
//	/iam/<account>/roles/<name>
//	/iam/<account>/users/<name>
//	/iam/<account>/policies/<policy-id>   customer-managed policies
//	/iam/<account>/profiles/<name>        instance profiles
//	/iam/<account>/oidc/<url>             OpenID Connect providers (url path-escaped)
//	/iam/<account>/keys/<access-key-id>   users' access keys
//	/iam/<account>/servercerts/<name>     server certificates (private key sealed)
//	/iam-keys/<access-key-id>             index: access key → account (host-wide)
//	/iam-sessions/<access-key-id>         STS temporary credentials (host-wide)
//
// IAM is global, so an account is the scope of a write: every change is
// one transaction that reads the whole account (Update), compares its
// generation key and rewrites what changed; IAM writes are rare and a
// whole-account read makes the cross-object rules (a role in an instance
// profile cannot be deleted, a policy attached somewhere cannot be
// deleted) exact. Sessions are written once and read by access key. A
// deleted access key leaves its index entry as a tombstone ("-<account>")
// so that the verifier keeps refusing it.
package iamstore
