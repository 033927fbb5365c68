package appscaling

import "github.com/berth-dev/berth/internal/fault"

// Application Auto Scaling's exception codes.
const (
	CodeValidation       = "ValidationException"
	CodeObjectNotFound   = "ObjectNotFoundException"
	CodeConcurrentUpdate = "ConcurrentUpdateException"
	CodeLimitExceeded    = "LimitExceededException"
	CodeFailedResource   = "FailedResourceAccessException"
	CodeResourceNotFound = "ResourceNotFoundException"
	CodeTooManyTags      = "TooManyTagsException"
	CodeInternal         = "InternalServiceException"
)

// Validationf is a ValidationException.
func Validationf(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, format, args...).WithCode(CodeValidation)
}

// NotFoundf is an ObjectNotFoundException.
func NotFoundf(format string, args ...any) error {
	return fault.New(fault.NotFound, format, args...).WithCode(CodeObjectNotFound)
}

// FailedResourcef is a FailedResourceAccessException: the scalable
// resource (the ECS service) could not be read or changed.
func FailedResourcef(format string, args ...any) error {
	return fault.New(fault.Invalid, format, args...).WithCode(CodeFailedResource)
}
