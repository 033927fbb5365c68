// Package acm is the pure AWS Certificate Manager domain: certificates
// (imported ones parsed and checked as ACM checks them, with the key
// matching the certificate), their ARNs, summaries and tags, and the
// berth-local certificate authority that issues RequestCertificate's
// certificates (AWS would validate the domain by DNS or e-mail and sign
// with Amazon's CAs; berth signs at once with a CA of its own per account
// and region, which clients must be told to trust).
package acm
