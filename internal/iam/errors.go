package iam

import "github.com/berth-dev/berth/internal/fault"

// IAM's and STS's exception codes.
const (
	CodeNoSuchEntity         = "NoSuchEntity"
	CodeEntityAlreadyExists  = "EntityAlreadyExists"
	CodeMalformedPolicy      = "MalformedPolicyDocument"
	CodeInvalidInput         = "InvalidInput"
	CodeValidation           = "ValidationError"
	CodeDeleteConflict       = "DeleteConflict"
	CodeLimitExceeded        = "LimitExceeded"
	CodeAccessDenied         = "AccessDenied"
	CodeUnmodifiable         = "UnmodifiableEntity"
	CodeRegionDisabled       = "RegionDisabledException"
	CodePackedPolicyTooLarge = "PackedPolicyTooLarge"
	CodeExpiredToken         = "ExpiredToken"
	CodeInvalidClientTokenID = "InvalidClientTokenId"
	CodeServiceFailure       = "ServiceFailure"
)

// NoSuchEntity is IAM's not-found error.
func NoSuchEntity(format string, args ...any) error {
	return fault.New(fault.NotFound, format, args...).WithCode(CodeNoSuchEntity)
}

// AlreadyExists is IAM's EntityAlreadyExists.
func AlreadyExists(format string, args ...any) error {
	return fault.New(fault.AlreadyExists, format, args...).WithCode(CodeEntityAlreadyExists)
}

// Malformed is MalformedPolicyDocument.
func Malformed(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, format, args...).WithCode(CodeMalformedPolicy)
}

// Invalid is InvalidInput.
func Invalid(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, format, args...).WithCode(CodeInvalidInput)
}

// Validation is ValidationError (a constraint of the API model).
func Validation(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, format, args...).WithCode(CodeValidation)
}

// DeleteConflict is refused deletion of something still in use.
func DeleteConflict(format string, args ...any) error {
	return fault.New(fault.InUse, format, args...).WithCode(CodeDeleteConflict)
}

// Limit is LimitExceeded.
func Limit(format string, args ...any) error {
	return fault.New(fault.LimitExceeded, format, args...).WithCode(CodeLimitExceeded)
}

// Denied is AccessDenied (STS spells it so too).
func Denied(format string, args ...any) error {
	return fault.New(fault.AccessDenied, format, args...).WithCode(CodeAccessDenied)
}
