package ecsapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/fault"
)

// mapError is the one table from fault kinds to ECS exceptions.
func mapError(err error) *awsproto.Error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &awsproto.Error{Code: "ServerException", Message: "The request was cancelled.", Status: 500}
	}
	fe, ok := fault.As(err)
	if !ok {
		return &awsproto.Error{Code: "ServerException", Message: "Internal server error: " + err.Error(), Status: 500}
	}
	msg := fe.Error()
	if fe.Code != "" {
		return &awsproto.Error{Code: fe.Code, Message: msg, Status: statusOf(fe.Kind)}
	}
	code := "ClientException"
	switch fe.Kind {
	case fault.NotFound:
		switch fe.Resource {
		case "cluster":
			code = "ClusterNotFoundException"
		case "service":
			code = "ServiceNotFoundException"
		case "resource":
			code = "ResourceNotFoundException"
		}
	case fault.InvalidParameter:
		code = "InvalidParameterException"
	case fault.InUse:
		code = "ResourceInUseException"
	case fault.LimitExceeded:
		code = "LimitExceededException"
	case fault.AccessDenied:
		code = "AccessDeniedException"
	case fault.Unsupported:
		code = "UnsupportedFeatureException"
	case fault.Internal, fault.Unavailable:
		code = "ServerException"
	}
	return &awsproto.Error{Code: code, Message: msg, Status: statusOf(fe.Kind)}
}

func statusOf(k fault.Kind) int {
	switch k {
	case fault.Internal, fault.Unavailable:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}
