package fault

import (
	"errors"
	"fmt"
)

// Kind classifies an error. Kinds are deliberately coarse; the API edge may
// refine them with the Resource an error is about (a NotFound on "cluster"
// becomes ClusterNotFoundException in ECS).
type Kind int

const (
	// Internal is a bug or an unexpected failure of a dependency (disk, Docker).
	Internal Kind = iota
	// Invalid is a request that can never succeed as written (ECS's ClientException).
	Invalid
	// InvalidParameter is a request with a parameter that is malformed or out of range.
	InvalidParameter
	// NotFound is a reference to a resource that does not exist.
	NotFound
	// AlreadyExists is a create of a resource that exists and may not be replaced.
	AlreadyExists
	// InUse is an operation refused because the resource is still in use.
	InUse
	// Conflict is a concurrent modification that lost a compare-and-swap.
	Conflict
	// LimitExceeded is a request that would exceed a quota.
	LimitExceeded
	// AccessDenied is an authenticated caller without permission.
	AccessDenied
	// Unavailable is a transient failure; the caller may retry.
	Unavailable
	// Unsupported is a valid request for a feature berth does not implement.
	Unsupported
)

var kindNames = map[Kind]string{
	Internal: "internal", Invalid: "invalid", InvalidParameter: "invalid parameter",
	NotFound: "not found", AlreadyExists: "already exists", InUse: "in use",
	Conflict: "conflict", LimitExceeded: "limit exceeded", AccessDenied: "access denied",
	Unavailable: "unavailable", Unsupported: "unsupported",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is a classified error. Resource names the kind of thing the error is
// about ("cluster", "taskDefinition", "repository", ...); it lets the API
// edge pick a specific exception. Code, when set, names the exact AWS
// exception a domain rule requires (for example "ClusterContainsServicesException");
// it takes precedence over the edge's table.
type Error struct {
	Kind     Kind
	Resource string
	Code     string
	Msg      string
	Err      error
}

func (e *Error) Error() string {
	switch {
	case e.Msg != "" && e.Err != nil:
		return e.Msg + ": " + e.Err.Error()
	case e.Msg != "":
		return e.Msg
	case e.Err != nil:
		return e.Err.Error()
	}
	return e.Kind.String()
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an Error of kind k with a formatted message.
func New(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// NotFoundf returns a NotFound error about resource.
func NotFoundf(resource, format string, args ...any) *Error {
	return &Error{Kind: NotFound, Resource: resource, Msg: fmt.Sprintf(format, args...)}
}

// Wrap classifies err with kind k and a message. A nil err returns nil.
func Wrap(err error, k Kind, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...), Err: err}
}

// WithCode returns e with an exact AWS exception name attached.
func (e *Error) WithCode(code string) *Error { e.Code = code; return e }

// WithResource returns e with the resource it is about.
func (e *Error) WithResource(r string) *Error { e.Resource = r; return e }

// KindOf returns the Kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Kind
	}
	return Internal
}

// Is reports whether err carries kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var fe *Error
	ok := errors.As(err, &fe)
	return fe, ok
}
