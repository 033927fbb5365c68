// Package acmcp is the ACM control plane: ImportCertificate (re-import
// keeps the ARN), RequestCertificate (issued at once by the scope's
// berth-local CA, made on first use), Describe/List/Get/DeleteCertificate
// and tags, in domain terms; Certificate gives the ELB data plane a
// certificate with its key. DeleteCertificate asks InUse (the load
// balancers' listeners) and refuses a certificate in use.
package acmcp
