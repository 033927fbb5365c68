package awsproto

import (
	"context"
	"errors"
	"net/http"

	"github.com/berth-dev/berth/internal/fault"
)

// FaultTable maps berth's error model (package fault) to one service's AWS
// exceptions: each service declares its table and uses Map as its
// Service.MapError. An error that names its exception exactly
// (fault.Error.Code) keeps that name; otherwise the kind, refined by the
// resource the error is about, picks it.
type FaultTable struct {
	// Codes maps a kind to the exception name.
	Codes map[fault.Kind]string
	// Resources refines Codes: kind → resource → exception name.
	Resources map[fault.Kind]map[string]string
	// Client is the exception of a client-side kind absent from Codes.
	Client string
	// Server is the exception of Internal and Unavailable errors, and of
	// errors outside the model (default "ServerException").
	Server string
}

// Map converts err to the service's wire error.
func (t FaultTable) Map(err error) *Error {
	server := t.Server
	if server == "" {
		server = "ServerException"
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: server, Message: "The request was cancelled before it completed.", Status: http.StatusInternalServerError}
	}
	fe, ok := fault.As(err)
	if !ok {
		return &Error{Code: server, Message: "Internal server error: " + err.Error(), Status: http.StatusInternalServerError}
	}
	status := http.StatusBadRequest
	if fe.Kind == fault.Internal || fe.Kind == fault.Unavailable {
		status = http.StatusInternalServerError
	}
	code := fe.Code
	if code == "" {
		code = t.Resources[fe.Kind][fe.Resource]
	}
	if code == "" {
		code = t.Codes[fe.Kind]
	}
	if code == "" {
		code = t.Client
		if status >= 500 {
			code = server
		}
	}
	return &Error{Code: code, Message: fe.Error(), Status: status}
}
