package awsproto

import (
	"fmt"
	"net/http"
)

// Error is an AWS-shaped error as it goes on the wire: the exception name
// (Code), a message a person can act on, and the HTTP status.
type Error struct {
	Code    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns a client (4xx) error with the given AWS code.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Status: status}
}

// Common protocol-level errors shared by every service.
func errUnknownOperation(op string) *Error {
	return Errorf(http.StatusBadRequest, "UnknownOperationException", "Operation %s is not supported by this server.", op)
}

func errSerialization(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "SerializationException", format, args...)
}

func errInternal(msg string) *Error {
	return &Error{Code: "InternalFailure", Message: msg, Status: http.StatusInternalServerError}
}

// Sender reports whether the error is the caller's fault (Sender) or the
// server's (Receiver), as awsQuery error documents say.
func (e *Error) sender() bool { return e.Status < 500 }

// errUnknownRoute is the restJson1 error for a method and path no route
// matches.
func errUnknownRoute(method, path string) *Error {
	return Errorf(http.StatusNotFound, "UnknownOperationException", "No operation matches %s %s.", method, path)
}

// authFlavour is how an authentication failure is spelled per protocol.
// Authenticators return the awsJson spelling; awsQuery services (STS, IAM,
// ELBv2) use the older names, and restJson1 front ends answer 403.
type authFlavour struct {
	queryCode                           string
	jsonStatus, queryStatus, restStatus int
}

var authFlavours = map[string]authFlavour{
	"IncompleteSignatureException":        {"IncompleteSignature", 400, 400, 403},
	"InvalidSignatureException":           {"SignatureDoesNotMatch", 400, 403, 403},
	"UnrecognizedClientException":         {"InvalidClientTokenId", 400, 403, 403},
	"MissingAuthenticationTokenException": {"MissingAuthenticationToken", 400, 403, 403},
	"AccessDeniedException":               {"AccessDenied", 403, 403, 403},
	"ExpiredTokenException":               {"ExpiredToken", 400, 403, 403},
}

// forProtocol returns the authentication error e as protocol p spells it.
// Errors that are not authentication failures are returned unchanged.
func (e *Error) forProtocol(p Protocol) *Error {
	f, ok := authFlavours[e.Code]
	if !ok {
		return e
	}
	out := *e
	switch p {
	case Query:
		out.Code, out.Status = f.queryCode, f.queryStatus
	case RestJSON:
		out.Status = f.restStatus
	default:
		out.Status = f.jsonStatus
	}
	return &out
}
