package logs

import "github.com/berth-dev/berth/internal/fault"

// CloudWatch Logs' exception codes.
const (
	CodeInvalidParameter      = "InvalidParameterException"
	CodeResourceNotFound      = "ResourceNotFoundException"
	CodeResourceAlreadyExists = "ResourceAlreadyExistsException"
	CodeLimitExceeded         = "LimitExceededException"
	CodeInvalidOperation      = "InvalidOperationException"
)

// Invalidf is an InvalidParameterException.
func Invalidf(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, format, args...).WithCode(CodeInvalidParameter)
}

// ErrGroupNotFound is the ResourceNotFoundException of a missing group.
func ErrGroupNotFound() error {
	return fault.New(fault.NotFound, "The specified log group does not exist.").WithCode(CodeResourceNotFound)
}

// ErrStreamNotFound is the ResourceNotFoundException of a missing stream.
func ErrStreamNotFound() error {
	return fault.New(fault.NotFound, "The specified log stream does not exist.").WithCode(CodeResourceNotFound)
}

// ErrGroupExists is the ResourceAlreadyExistsException of CreateLogGroup.
func ErrGroupExists() error {
	return fault.New(fault.AlreadyExists, "The specified log group already exists").WithCode(CodeResourceAlreadyExists)
}

// ErrStreamExists is the ResourceAlreadyExistsException of CreateLogStream.
func ErrStreamExists() error {
	return fault.New(fault.AlreadyExists, "The specified log stream already exists").WithCode(CodeResourceAlreadyExists)
}
