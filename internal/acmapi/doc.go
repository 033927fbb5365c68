// Package acmapi is the AWS Certificate Manager API (awsJson1.1,
// CertificateManager, 2015-12-08): wire shapes to acmcp calls.
package acmapi
