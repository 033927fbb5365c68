package ecrapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/fault"
)

// mapError is the one table from fault kinds to ECR exceptions. Errors that
// carry an exact ECR exception name (fault.Error.Code, set by this package
// and by the registry) keep it.
func mapError(err error) *awsproto.Error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &awsproto.Error{Code: "ServerException", Message: "The request was cancelled.", Status: http.StatusInternalServerError}
	}
	fe, ok := fault.As(err)
	if !ok {
		return &awsproto.Error{Code: "ServerException", Message: "Internal server error: " + err.Error(), Status: http.StatusInternalServerError}
	}
	msg := fe.Error()
	status := http.StatusBadRequest
	switch fe.Kind {
	case fault.Internal, fault.Unavailable:
		status = http.StatusInternalServerError
	}
	if fe.Code != "" {
		return &awsproto.Error{Code: fe.Code, Message: msg, Status: status}
	}
	code := "InvalidParameterException"
	switch fe.Kind {
	case fault.NotFound:
		switch fe.Resource {
		case "repository":
			code = "RepositoryNotFoundException"
		case "image":
			code = "ImageNotFoundException"
		case "layer":
			code = "LayersNotFoundException"
		case "upload":
			code = "UploadNotFoundException"
		case "repositoryPolicy":
			code = "RepositoryPolicyNotFoundException"
		case "lifecyclePolicy":
			code = "LifecyclePolicyNotFoundException"
		case "lifecyclePolicyPreview":
			code = "LifecyclePolicyPreviewNotFoundException"
		}
	case fault.AlreadyExists:
		if fe.Resource == "repository" {
			code = "RepositoryAlreadyExistsException"
		}
	case fault.InUse:
		if fe.Resource == "repository" {
			code = "RepositoryNotEmptyException"
		}
	case fault.LimitExceeded:
		code = "LimitExceededException"
	case fault.AccessDenied:
		code = "AccessDeniedException"
	case fault.Unsupported:
		code = "ValidationException"
	case fault.Internal, fault.Unavailable:
		code = "ServerException"
	}
	return &awsproto.Error{Code: code, Message: msg, Status: status}
}

// Helpers for the errors ECR spells in a specific way.

func errRepoNotFound(sc scope, name string) error {
	return fault.NotFoundf("repository", "The repository with name '%s' does not exist in the registry with id '%s'", name, sc.Account).
		WithCode("RepositoryNotFoundException")
}

func errInvalidParam(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, format, args...).WithCode("InvalidParameterException")
}

func errValidation(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, format, args...).WithCode("ValidationException")
}
