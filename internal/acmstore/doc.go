// Package acmstore keeps ACM certificates in the state store, one record
// per certificate under /acm/<account>/<region>/cert/<id> and the scope's
// local CA under .../ca, every private key sealed with AES-256-GCM (the
// Secrets Manager sealer, bound to the record's key). Writes compare the
// scope's generation key, as secretstore does.
package acmstore
