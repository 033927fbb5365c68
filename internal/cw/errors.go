package cw

import "github.com/berth-dev/berth/internal/fault"

// CloudWatch's awsQuery error codes.
const (
	CodeInvalidParameterValue       = "InvalidParameterValue"
	CodeMissingParameter            = "MissingParameter"
	CodeInvalidParameterCombination = "InvalidParameterCombination"
	CodeResourceNotFound            = "ResourceNotFound"
	CodeInvalidNextToken            = "InvalidNextToken"
	CodeLimitExceeded               = "LimitExceeded"
	CodeInvalidFormat               = "InvalidFormat"
	CodeInternal                    = "InternalServiceError"
	// CodeValidation is the code AWS gives for a bad AlarmRule and for
	// deleting an alarm a composite alarm depends on (no shape in the
	// model declares it).
	CodeValidation = "ValidationError"
)

// Invalidf is an InvalidParameterValue error.
func Invalidf(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, format, args...).WithCode(CodeInvalidParameterValue)
}

// Missingf is a MissingParameter error.
func Missingf(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, format, args...).WithCode(CodeMissingParameter)
}

// Combinationf is an InvalidParameterCombination error.
func Combinationf(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, format, args...).WithCode(CodeInvalidParameterCombination)
}

// NotFoundf is a ResourceNotFound error.
func NotFoundf(format string, args ...any) error {
	return fault.New(fault.NotFound, format, args...).WithCode(CodeResourceNotFound)
}

// Validationf is a ValidationError.
func Validationf(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, format, args...).WithCode(CodeValidation)
}
