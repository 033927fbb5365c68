// Package secretstore keeps Secrets Manager secrets and SSM parameters in
// the state store (internal/store) as records of its own, under
//
//	/secrets/<account>/<region>/gen                write generation of the scope
//	/secrets/<account>/<region>/secret/<name>
//	/secrets/<account>/<region>/param/<name>
//
// with every secret value and every parameter value sealed (AES-256-GCM,
// the record's ARN and version as additional data) by a Sealer whose key
// lives outside the state store by default (<data-dir>/secrets.key, see
// LoadKeyFile). Writes follow elbstore's rule: one transaction per change
// that reads the whole scope and compares its generation key.
package secretstore
