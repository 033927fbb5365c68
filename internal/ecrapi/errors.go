package ecrapi

import (
	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/fault"
)

// faults is the one table from fault kinds to ECR exceptions. Errors that
// carry an exact ECR exception name (fault.Error.Code, set by this package
// and by the registry) keep it.
var faults = awsproto.FaultTable{
	Client: "InvalidParameterException",
	Codes: map[fault.Kind]string{
		fault.LimitExceeded: "LimitExceededException",
		fault.AccessDenied:  "AccessDeniedException",
		fault.Unsupported:   "ValidationException",
	},
	Resources: map[fault.Kind]map[string]string{
		fault.NotFound: {
			"repository":             "RepositoryNotFoundException",
			"image":                  "ImageNotFoundException",
			"layer":                  "LayersNotFoundException",
			"upload":                 "UploadNotFoundException",
			"repositoryPolicy":       "RepositoryPolicyNotFoundException",
			"lifecyclePolicy":        "LifecyclePolicyNotFoundException",
			"lifecyclePolicyPreview": "LifecyclePolicyPreviewNotFoundException",
		},
		fault.AlreadyExists: {"repository": "RepositoryAlreadyExistsException"},
		fault.InUse:         {"repository": "RepositoryNotEmptyException"},
	},
}

func mapError(err error) *awsproto.Error { return faults.Map(err) }

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
