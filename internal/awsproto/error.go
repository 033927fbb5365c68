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
