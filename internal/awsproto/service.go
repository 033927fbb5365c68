package awsproto

import (
	"context"
	"net/http"
)

// Protocol is an AWS wire protocol.
type Protocol int

const (
	JSON10    Protocol = iota + 1 // awsJson1.0 (application/x-amz-json-1.0)
	JSON11                        // awsJson1.1 (application/x-amz-json-1.1)
	Query                         // awsQuery (form in, XML out)
	RestJSON                      // restJson1
	RPCv2CBOR                     // smithy-rpc-v2-cbor (application/cbor)
)

// Call is what an operation learns about its request beyond its input.
type Call struct {
	Service   string // signing name, e.g. "ecs"
	Operation string // e.g. "CreateCluster"
	Region    string // from the SigV4 credential scope (or the server default)
	Account   string // the caller's account
	AccessKey string // the caller's access key ID ("" if unsigned)
	// Principal is the caller's ARN when it is an IAM user or an
	// assumed-role session ("" for the account's root and unsigned
	// calls); PrincipalID its unique ID.
	Principal   string
	PrincipalID string
	RequestID   string
	// PathParams holds restJson1 path parameters (nil otherwise).
	PathParams map[string]string
	// HTTP is the original request, for the rare operation that needs a
	// header. Its body has already been consumed.
	HTTP *http.Request
}

// AccountOr returns the caller's account, or def for a call that names
// none (an unsigned call, or a key without an account).
func (c *Call) AccountOr(def string) string {
	if c.Account == "" {
		return def
	}
	return c.Account
}

// Decoder decodes an operation's input into v (a pointer to a struct whose
// fields carry `json` tags for JSON protocols, and the same tags for awsQuery
// members). Type errors come back as *Error (SerializationException, ...).
type Decoder interface {
	Decode(v any) error
}

// Op is one operation. It returns the output value (encoded in the service's
// protocol) or an error; errors that are not *Error go through the service's
// MapError.
type Op func(ctx context.Context, c *Call, in Decoder) (any, error)

// Streamer is an output that writes its own response, such as an event
// stream (application/vnd.amazon.eventstream) lasting as long as the
// client reads it: a JSON protocol operation returning one is answered by
// ServeStream instead of an encoded body. ctx ends when the client goes.
type Streamer interface {
	ServeStream(ctx context.Context, w http.ResponseWriter)
}

// Handle adapts a typed function to an Op: it decodes the input into a new
// In and calls fn.
func Handle[In any](fn func(ctx context.Context, c *Call, in *In) (any, error)) Op {
	return func(ctx context.Context, c *Call, d Decoder) (any, error) {
		in := new(In)
		if err := d.Decode(in); err != nil {
			return nil, err
		}
		return fn(ctx, c, in)
	}
}

// Route is one restJson1 operation: an HTTP method and a path pattern in
// net/http ServeMux syntax ("/clusters/{name}"), plus the success status.
type Route struct {
	Method    string
	Path      string
	Operation string
	Status    int // 0 means 200
}

// Service is one AWS service served by the Router.
type Service struct {
	// SigningName is the SigV4 service name ("ecs", "ecr", "sts", ...).
	SigningName string
	Protocol    Protocol
	// TargetPrefix is the X-Amz-Target prefix for JSON protocols
	// ("AmazonEC2ContainerServiceV20141113"). An awsQuery service with a
	// TargetPrefix also speaks awsJson1.0 (as CloudWatch and SQS do).
	TargetPrefix string
	// XMLNamespace is the namespace of awsQuery response documents.
	XMLNamespace string
	// Ops maps operation names to handlers.
	Ops map[string]Op
	// Routes lists restJson1 routes (RestJSON only).
	Routes []Route
	// RPCv2Service is the Smithy service shape name ("GraniteServiceVersion20100801")
	// under which the service also speaks smithy-rpc-v2-cbor at
	// POST /service/<RPCv2Service>/operation/<Op>; "" means it does not.
	RPCv2Service string
	// ErrorShapes makes an awsQuery service "awsQueryCompatible" over its
	// JSON and CBOR protocols: it maps an awsQuery error code
	// ("InvalidParameterValue") to the error shape name sent as __type
	// ("InvalidParameterValueException"); the query code travels in the
	// x-amzn-query-error header ("Code;Sender"), as AWS sends it. A code
	// absent from the map is sent as is.
	ErrorShapes map[string]string
	// ErrorMessageKey names the message member of an awsJson error body
	// by exception code ("message" when nil; "" leaves it out).
	ErrorMessageKey func(code string) string
	// MapError turns a non-*Error error (usually a fault.Error) into the
	// service's AWS exception. Nil means every such error is InternalFailure.
	MapError func(error) *Error
}
