package registry

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/berth-dev/berth/internal/fault"
)

// OCI distribution-spec error codes.
const (
	CodeBlobUnknown         = "BLOB_UNKNOWN"
	CodeBlobUploadInvalid   = "BLOB_UPLOAD_INVALID"
	CodeBlobUploadUnknown   = "BLOB_UPLOAD_UNKNOWN"
	CodeDigestInvalid       = "DIGEST_INVALID"
	CodeManifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN"
	CodeManifestInvalid     = "MANIFEST_INVALID"
	CodeManifestUnknown     = "MANIFEST_UNKNOWN"
	CodeNameInvalid         = "NAME_INVALID"
	CodeNameUnknown         = "NAME_UNKNOWN"
	CodeSizeInvalid         = "SIZE_INVALID"
	CodeTagInvalid          = "TAG_INVALID"
	CodeUnauthorized        = "UNAUTHORIZED"
	CodeDenied              = "DENIED"
	CodeUnsupported         = "UNSUPPORTED"
	CodeTooManyRequests     = "TOOMANYREQUESTS"
	CodeUnknown             = "UNKNOWN"
)

// ErrUnauthenticated is what an Authorizer returns (wrapped or bare) for a
// request without valid credentials; the handler answers 401 with ECR's
// Basic challenge. Any other Authorizer error is a 403 DENIED.
var ErrUnauthenticated = errors.New("registry: authentication required")

// Error is a registry error: the OCI error code and HTTP status the
// distribution API answers with, plus a fault classification (Kind,
// Resource, and the ECR exception name in Code) for the ECR API. It unwraps
// to the *fault.Error, so fault.KindOf, fault.As and errors.As all work.
type Error struct {
	// OCICode is the distribution-spec code (BLOB_UNKNOWN, ...).
	OCICode string
	// Status is the HTTP status of the distribution API response.
	Status int
	// Detail is the optional "detail" member of the JSON error.
	Detail any
	// Fault is the classification; its Msg is the human message.
	Fault *fault.Error
}

func (e *Error) Error() string { return e.Fault.Error() }
func (e *Error) Unwrap() error { return e.Fault }

// Message is the human-readable message.
func (e *Error) Message() string { return e.Fault.Msg }

func newErr(code string, status int, kind fault.Kind, resource, ecrCode string, detail any, format string, args ...any) *Error {
	return &Error{
		OCICode: code, Status: status, Detail: detail,
		Fault: &fault.Error{Kind: kind, Resource: resource, Code: ecrCode, Msg: fmt.Sprintf(format, args...)},
	}
}

func errNameUnknown(account, repo string) *Error {
	return newErr(CodeNameUnknown, http.StatusNotFound, fault.NotFound, "repository", "RepositoryNotFoundException",
		map[string]string{"name": repo},
		"The repository with name '%s' does not exist in the registry with id '%s'", repo, account)
}

func errNameInvalid(repo string) *Error {
	return newErr(CodeNameInvalid, http.StatusBadRequest, fault.InvalidParameter, "repository", "InvalidParameterException",
		map[string]string{"name": repo}, "invalid repository name %q", repo)
}

func errBlobUnknown(dgst string) *Error {
	return newErr(CodeBlobUnknown, http.StatusNotFound, fault.NotFound, "layer", "LayersNotFoundException",
		map[string]string{"digest": dgst}, "blob unknown to registry: %s", dgst)
}

func errUploadUnknown(id string) *Error {
	return newErr(CodeBlobUploadUnknown, http.StatusNotFound, fault.NotFound, "upload", "UploadNotFoundException",
		map[string]string{"uploadId": id}, "upload %s does not exist", id)
}

func errUploadInvalid(format string, args ...any) *Error {
	return newErr(CodeBlobUploadInvalid, http.StatusBadRequest, fault.InvalidParameter, "upload", "InvalidLayerPartException",
		nil, format, args...)
}

// errRange is an out-of-order chunk: 416 with the upload's current size.
func errRange(size int64, format string, args ...any) *Error {
	e := newErr(CodeBlobUploadInvalid, http.StatusRequestedRangeNotSatisfiable, fault.InvalidParameter, "upload",
		"InvalidLayerPartException", map[string]int64{"size": size}, format, args...)
	return e
}

func errDigestInvalid(ecrCode string, format string, args ...any) *Error {
	return newErr(CodeDigestInvalid, http.StatusBadRequest, fault.InvalidParameter, "digest", ecrCode, nil, format, args...)
}

func errSizeInvalid(format string, args ...any) *Error {
	return newErr(CodeSizeInvalid, http.StatusBadRequest, fault.InvalidParameter, "layer", "InvalidLayerException", nil, format, args...)
}

func errManifestUnknown(ref string) *Error {
	return newErr(CodeManifestUnknown, http.StatusNotFound, fault.NotFound, "image", "ImageNotFoundException",
		map[string]string{"reference": ref}, "manifest unknown: %s", ref)
}

func errManifestInvalid(format string, args ...any) *Error {
	return newErr(CodeManifestInvalid, http.StatusBadRequest, fault.InvalidParameter, "image", "InvalidParameterException",
		nil, format, args...)
}

func errManifestBlobUnknown(dgst string) *Error {
	return newErr(CodeManifestBlobUnknown, http.StatusBadRequest, fault.Invalid, "layer", "LayersNotFoundException",
		map[string]string{"digest": dgst}, "manifest references unknown blob %s", dgst)
}

func errManifestChildUnknown(dgst string) *Error {
	return newErr(CodeManifestBlobUnknown, http.StatusBadRequest, fault.Invalid, "image", "ReferencedImagesNotFoundException",
		map[string]string{"digest": dgst}, "manifest references unknown manifest %s", dgst)
}

func errTagInvalid(tag string) *Error {
	return newErr(CodeTagInvalid, http.StatusBadRequest, fault.InvalidParameter, "image", "InvalidParameterException",
		map[string]string{"tag": tag}, "invalid tag %q", tag)
}

// errTagImmutable is ECR's refusal to move a tag of an immutable
// repository; docker shows it as "tag invalid: <message>".
func errTagImmutable(tag, repo string) *Error {
	return newErr(CodeTagInvalid, http.StatusBadRequest, fault.AlreadyExists, "image", "ImageTagAlreadyExistsException",
		map[string]string{"tag": tag},
		"The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the repository is immutable.", tag, repo)
}

func errUnsupported(format string, args ...any) *Error {
	return newErr(CodeUnsupported, http.StatusMethodNotAllowed, fault.Unsupported, "", "", nil, format, args...)
}

func errUnauthorized(msg string) *Error {
	return newErr(CodeUnauthorized, http.StatusUnauthorized, fault.AccessDenied, "", "", nil, "%s", msg)
}

func errDenied(msg string) *Error {
	return newErr(CodeDenied, http.StatusForbidden, fault.AccessDenied, "", "", nil, "%s", msg)
}

// asRegistryError converts any error into the distribution API's shape.
func asRegistryError(err error) *Error {
	var re *Error
	if errors.As(err, &re) {
		return re
	}
	fe, ok := fault.As(err)
	if !ok {
		return newErr(CodeUnknown, http.StatusInternalServerError, fault.Internal, "", "", nil, "%s", err.Error())
	}
	switch fe.Kind {
	case fault.NotFound:
		return &Error{OCICode: CodeNameUnknown, Status: http.StatusNotFound, Fault: fe}
	case fault.Invalid, fault.InvalidParameter:
		return &Error{OCICode: CodeManifestInvalid, Status: http.StatusBadRequest, Fault: fe}
	case fault.AccessDenied:
		return &Error{OCICode: CodeDenied, Status: http.StatusForbidden, Fault: fe}
	case fault.Unsupported:
		return &Error{OCICode: CodeUnsupported, Status: http.StatusMethodNotAllowed, Fault: fe}
	case fault.LimitExceeded:
		return &Error{OCICode: CodeTooManyRequests, Status: http.StatusTooManyRequests, Fault: fe}
	case fault.Unavailable:
		return &Error{OCICode: CodeUnknown, Status: http.StatusServiceUnavailable, Fault: fe}
	}
	return &Error{OCICode: CodeUnknown, Status: http.StatusInternalServerError, Fault: fe}
}
