package secrets

import "github.com/berth-dev/berth/internal/fault"

// Secrets Manager's and SSM's exception codes.
const (
	CodeResourceNotFound   = "ResourceNotFoundException"
	CodeResourceExists     = "ResourceExistsException"
	CodeInvalidRequest     = "InvalidRequestException"
	CodeInvalidParameter   = "InvalidParameterException"
	CodeMalformedPolicy    = "MalformedPolicyDocumentException"
	CodePublicPolicy       = "PublicPolicyException"
	CodeLimitExceeded      = "LimitExceededException"
	CodeInvalidNextToken   = "InvalidNextTokenException"
	CodeParameterNotFound  = "ParameterNotFound"
	CodeParameterExists    = "ParameterAlreadyExists"
	CodeParameterVersion   = "ParameterVersionNotFound"
	CodeValidation         = "ValidationException"
	CodeInvalidKeyID       = "InvalidKeyId"
	CodeUnsupportedType    = "UnsupportedParameterType"
	CodeHierarchyMismatch  = "HierarchyTypeMismatchException"
	CodeAllowedPattern     = "ParameterPatternMismatchException"
	CodeInvalidFilterKey   = "InvalidFilterKey"
	CodeInvalidFilterValue = "InvalidFilterValue"
	CodeInvalidResourceID  = "InvalidResourceId"
	CodeInvalidResourceTyp = "InvalidResourceType"
	CodeTooManyUpdates     = "TooManyUpdates"
	CodeParamLimit         = "ParameterVersionLabelLimitExceeded"
)

// Coded returns a client error with an exact code.
func Coded(k fault.Kind, code, format string, args ...any) error {
	return fault.New(k, format, args...).WithCode(code)
}

// SecretNotFound is Secrets Manager's not-found error.
func SecretNotFound() error {
	return Coded(fault.NotFound, CodeResourceNotFound, "Secrets Manager can't find the specified secret.")
}

// MarkedForDeletion is the error of operations on a secret scheduled for
// deletion.
func MarkedForDeletion() error {
	return Coded(fault.Invalid, CodeInvalidRequest, "You can't perform this operation on the secret because it was marked for deletion.")
}

// InvalidParam is InvalidParameterException.
func InvalidParam(format string, args ...any) error {
	return Coded(fault.InvalidParameter, CodeInvalidParameter, format, args...)
}

// Validation is SSM's ValidationException.
func Validation(format string, args ...any) error {
	return Coded(fault.InvalidParameter, CodeValidation, format, args...)
}

// ParameterNotFound is SSM's not-found error (AWS sends no message but
// the SDKs print one; berth names the parameter).
func ParameterNotFound(name string) error {
	return Coded(fault.NotFound, CodeParameterNotFound, "Parameter %s not found.", name)
}
