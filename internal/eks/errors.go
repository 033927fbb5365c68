package eks

import "github.com/berth-dev/berth/internal/fault"

// EKS's exception codes.
const (
	CodeInvalidParameter = "InvalidParameterException"
	CodeInvalidRequest   = "InvalidRequestException"
	CodeResourceInUse    = "ResourceInUseException"
	CodeNotFound         = "ResourceNotFoundException"
	CodeLimitExceeded    = "ResourceLimitExceededException"
	CodeBadRequest       = "BadRequestException"
	CodeTagNotFound      = "NotFoundException"
)

// InvalidParameterf is an InvalidParameterException: a parameter is
// malformed or out of range.
func InvalidParameterf(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, format, args...).WithCode(CodeInvalidParameter)
}

// InvalidRequestf is an InvalidRequestException: well formed, but not
// allowed in the resource's current state or configuration.
func InvalidRequestf(format string, args ...any) error {
	return fault.New(fault.Invalid, format, args...).WithCode(CodeInvalidRequest)
}

// InUsef is a ResourceInUseException.
func InUsef(format string, args ...any) error {
	return fault.New(fault.InUse, format, args...).WithCode(CodeResourceInUse)
}

// NotFoundf is a ResourceNotFoundException.
func NotFoundf(format string, args ...any) error {
	return fault.NotFoundf("eks", format, args...).WithCode(CodeNotFound)
}

// ClusterNotFound is the error for a missing cluster.
func ClusterNotFound(name string) error {
	return NotFoundf("No cluster found for name: %s.", name)
}

// BadRequestf is a BadRequestException (the tagging operations).
func BadRequestf(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, format, args...).WithCode(CodeBadRequest)
}

// TagTargetNotFound is the NotFoundException of the tagging operations.
func TagTargetNotFound(arn string) error {
	return fault.NotFoundf("eks", "Resource %s not found", arn).WithCode(CodeTagNotFound)
}

// LimitExceededf is a ResourceLimitExceededException.
func LimitExceededf(format string, args ...any) error {
	return fault.New(fault.LimitExceeded, format, args...).WithCode(CodeLimitExceeded)
}
