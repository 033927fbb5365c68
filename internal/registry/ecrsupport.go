package registry

// Support for the ECR control plane (internal/ecrapi), which implements the
// Authorizer and needs to answer with exact messages.

// Unauthorized returns the error an Authorizer gives for missing, invalid
// or expired credentials: the handler answers 401 UNAUTHORIZED with ECR's
// Basic challenge (WWW-Authenticate) and msg as the message.
func Unauthorized(msg string) *Error { return errUnauthorized(msg) }

// Denied returns the error an Authorizer gives for an authenticated caller
// without permission: 403 DENIED with msg as the message.
func Denied(msg string) *Error { return errDenied(msg) }
