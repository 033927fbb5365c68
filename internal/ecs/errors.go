package ecs

import "github.com/berth-dev/berth/internal/fault"

// clientErr is ECS's catch-all ClientException: a request that cannot succeed.
func clientErr(format string, args ...any) error { return fault.New(fault.Invalid, format, args...) }

// invalidParam is ECS's InvalidParameterException.
func invalidParam(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, format, args...)
}
