package awsproto

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
)

// DefaultMaxBodyBytes caps an API request body (16 MiB).
const DefaultMaxBodyBytes = 16 << 20

// Identity is who signed a request and for which scope.
type Identity struct {
	AccessKey string
	Account   string
	Region    string
	Service   string // the signing name from the credential scope
	// Principal is the ARN of the signer when it is not the account's
	// root (an IAM user or an assumed-role session); PrincipalID its
	// unique ID.
	Principal   string
	PrincipalID string
}

// Authorizer decides whether an authenticated caller may call an
// operation (berth server --enforce-iam). It sees the call after its
// service and operation are resolved and before the operation runs; an
// error (normally AccessDenied) refuses the call.
type Authorizer interface {
	Authorize(ctx context.Context, c *Call, params Params) error
}

// Params gives an Authorizer the request's input members by name
// (top-level scalars only), to name the resource of a call.
type Params interface {
	Get(member string) string
}

// Authenticator verifies a request's signature. body is the whole request
// body (already read). It returns an *Error on failure, spelled as awsJson
// services spell it (IncompleteSignatureException, InvalidSignatureException,
// UnrecognizedClientException, MissingAuthenticationTokenException); the
// Router respells these codes and statuses for awsQuery (IncompleteSignature,
// SignatureDoesNotMatch, InvalidClientTokenId, MissingAuthenticationToken)
// and restJson1 once it knows the protocol. An Identity without Region or
// Account gets the Router's defaults.
type Authenticator interface {
	Authenticate(r *http.Request, body []byte) (Identity, error)
}

// Router serves AWS API requests for a set of services.
type Router struct {
	auth           Authenticator
	authz          Authorizer
	log            *slog.Logger
	defaultRegion  string
	defaultAccount string
	maxBody        int64
	byTarget       map[string]*Service // JSON: X-Amz-Target prefix
	bySigning      map[string]*Service
	byRPCv2        map[string]*Service // smithy-rpc-v2-cbor: service shape name
	rest           map[*Service]*http.ServeMux
}

// RouterConfig configures a Router.
type RouterConfig struct {
	Auth Authenticator
	// Authz, when set, authorizes every resolved call.
	Authz         Authorizer
	Logger        *slog.Logger
	DefaultRegion string
	// DefaultAccount is the account of calls whose Identity has none
	// (DefaultAccountID when empty).
	DefaultAccount string
	MaxBodyBytes   int64
}

// NewRouter returns a Router for services.
func NewRouter(cfg RouterConfig, services ...*Service) *Router {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.DefaultRegion == "" {
		cfg.DefaultRegion = "us-east-1"
	}
	if cfg.DefaultAccount == "" {
		cfg.DefaultAccount = DefaultAccountID
	}
	rt := &Router{
		auth: cfg.Auth, authz: cfg.Authz, log: cfg.Logger, defaultRegion: cfg.DefaultRegion, defaultAccount: cfg.DefaultAccount, maxBody: cfg.MaxBodyBytes,
		byTarget: map[string]*Service{}, bySigning: map[string]*Service{}, byRPCv2: map[string]*Service{}, rest: map[*Service]*http.ServeMux{},
	}
	for _, s := range services {
		if _, dup := rt.bySigning[s.SigningName]; dup {
			panic("awsproto: duplicate service " + s.SigningName)
		}
		rt.bySigning[s.SigningName] = s
		if s.TargetPrefix != "" {
			rt.byTarget[s.TargetPrefix] = s
		}
		if s.Protocol == RestJSON {
			rt.rest[s] = restMux(s)
		}
		if s.RPCv2Service != "" {
			rt.byRPCv2[s.RPCv2Service] = s
		}
	}
	return rt
}

// NewRequestID returns a fresh AWS-style request ID (a UUID v4 string).
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ServeHTTP implements http.Handler.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := NewRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	w.Header().Set("x-amz-request-id", reqID)
	proto, guess := rt.guessProtocol(r)
	defer func() {
		if p := recover(); p != nil {
			rt.log.Error("panic serving request", "panic", fmt.Sprint(p), "request_id", reqID, "stack", string(debug.Stack()))
			writeError(w, proto, reqID, errInternal("An internal error occurred. The request ID is "+reqID+"."), guess)
		}
	}()

	body, berr := rt.readBody(w, r)
	if berr != nil {
		writeError(w, proto, reqID, berr, guess)
		return
	}
	id, aerr := rt.authenticate(r, body)
	if aerr != nil {
		writeError(w, proto, reqID, aerr.forProtocol(proto), guess)
		return
	}
	// The signature covers the body as sent; the operation reads it
	// decompressed (botocore gzips large PutMetricData bodies).
	if body, berr = rt.decompress(r, body); berr != nil {
		writeError(w, proto, reqID, berr, guess)
		return
	}
	in := &inbound{r: r, body: body}
	svc, op, perr := rt.resolve(in, id)
	if svc != nil {
		proto, guess = requestProtocol(svc, r), svc // also for the panic handler
	}
	if perr != nil {
		writeError(w, proto, reqID, perr, svc)
		return
	}
	c := &Call{
		Service: svc.SigningName, Operation: op, Region: id.Region, Account: id.Account,
		AccessKey: id.AccessKey, Principal: id.Principal, PrincipalID: id.PrincipalID, RequestID: reqID, HTTP: r,
	}
	if rt.authz != nil && svc.Protocol != RestJSON {
		if err := rt.authz.Authorize(r.Context(), c, rt.paramsOf(svc, in)); err != nil {
			writeError(w, proto, reqID, asError(err, svc).forProtocol(proto), svc)
			return
		}
	}
	switch proto {
	case JSON10, JSON11:
		rt.serveJSON(w, r.Context(), svc, proto, c, body)
	case RPCv2CBOR:
		rt.serveCBOR(w, r.Context(), svc, c, body)
	case Query:
		rt.serveQuery(w, r.Context(), svc, c, in)
	case RestJSON:
		rt.serveRest(w, svc, c, in)
	}
}

// inbound is a request whose body has been read.
type inbound struct {
	r       *http.Request
	body    []byte
	parsed  bool                // form and formErr are set
	form    map[string][]string // awsQuery parameters
	formErr *Error
}

// readBody reads the whole body, enforcing the size limit.
func (rt *Router) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *Error) {
	tooLarge := func() *Error {
		return Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException",
			"Request body exceeds the limit of %d bytes.", rt.maxBody)
	}
	if r.ContentLength > rt.maxBody {
		return nil, tooLarge()
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rt.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge()
		}
		return nil, errSerialization("Could not read request body: %v", err)
	}
	return body, nil
}

// decompress returns the body without its Content-Encoding (gzip), within
// the body limit.
func (rt *Router) decompress(r *http.Request, body []byte) ([]byte, *Error) {
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	switch enc {
	case "", "identity":
		return body, nil
	case "gzip":
	default:
		return nil, errSerialization("Unsupported Content-Encoding %q.", enc)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, errSerialization("The gzip request body is not valid: %v", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, rt.maxBody+1))
	if err != nil {
		return nil, errSerialization("The gzip request body is not valid: %v", err)
	}
	if int64(len(out)) > rt.maxBody {
		return nil, Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException",
			"Request body exceeds the limit of %d bytes once decompressed.", rt.maxBody)
	}
	return out, nil
}

// authenticate verifies the request and fills in the defaults.
func (rt *Router) authenticate(r *http.Request, body []byte) (Identity, *Error) {
	id := Identity{}
	if rt.auth != nil {
		got, err := rt.auth.Authenticate(r, body)
		if err != nil {
			return Identity{}, asError(err, nil)
		}
		id = got
	}
	if id.Region == "" {
		id.Region = rt.defaultRegion
	}
	if id.Account == "" {
		id.Account = rt.defaultAccount
	}
	return id, nil
}

// guessProtocol picks the error encoding before the service is resolved,
// and the service when it can already tell.
func (rt *Router) guessProtocol(r *http.Request) (Protocol, *Service) {
	if isRPCv2(r) {
		name, _ := rpcv2Path(r.URL.Path)
		return RPCv2CBOR, rt.byRPCv2[name]
	}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		prefix, _, _ := strings.Cut(t, ".")
		if svc := rt.byTarget[prefix]; svc != nil {
			return requestProtocol(svc, r), svc
		}
		return JSON11, nil
	}
	if svc := rt.bySigning[scopeService(r)]; svc != nil {
		return svc.Protocol, svc
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return Query, nil
	}
	return JSON11, nil
}

// resolve finds the service and operation of a request. restJson1
// operations are resolved later, by the service's routes.
func (rt *Router) resolve(in *inbound, id Identity) (*Service, string, *Error) {
	r := in.r
	if isRPCv2(r) {
		name, op := rpcv2Path(r.URL.Path)
		svc := rt.byRPCv2[name]
		if svc == nil {
			return nil, "", errUnknownOperation(r.URL.Path)
		}
		if _, ok := svc.Ops[op]; !ok {
			return svc, "", errUnknownOperation(op)
		}
		return svc, op, nil
	}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		prefix, op, ok := strings.Cut(t, ".")
		if !ok {
			return nil, "", errUnknownOperation(t)
		}
		svc := rt.byTarget[prefix]
		if svc == nil {
			return nil, "", errUnknownOperation(t)
		}
		if _, ok := svc.Ops[op]; !ok {
			return svc, "", errUnknownOperation(op)
		}
		return svc, op, nil
	}
	name := id.Service
	if name == "" {
		name = scopeService(r)
	}
	svc := rt.bySigning[name]
	if svc == nil {
		return nil, "", Errorf(http.StatusBadRequest, "UnknownOperationException",
			"Could not determine the AWS service for this request (signing name %q).", name)
	}
	switch svc.Protocol {
	case Query:
		op, err := resolveQueryAction(svc, in)
		return svc, op, err
	case RestJSON:
		return svc, "", nil
	}
	return svc, "", errUnknownOperation(r.Method + " " + r.URL.Path)
}

// scopeService returns the service of a SigV4 Authorization header's
// credential scope, or "".
func scopeService(r *http.Request) string {
	a := r.Header.Get("Authorization")
	i := strings.Index(a, "Credential=")
	if i < 0 {
		if c := r.URL.Query().Get("X-Amz-Credential"); c != "" {
			parts := strings.Split(c, "/")
			if len(parts) == 5 {
				return parts[3]
			}
		}
		return ""
	}
	cred := a[i+len("Credential="):]
	if j := strings.IndexAny(cred, ", "); j >= 0 {
		cred = cred[:j]
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[3]
}

// asError converts any error into a wire error.
func asError(err error, svc *Service) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if svc != nil && svc.MapError != nil {
		if e := svc.MapError(err); e != nil {
			return e
		}
	}
	return errInternal(err.Error())
}

func (rt *Router) invoke(ctx context.Context, svc *Service, c *Call, d Decoder) (out any, err error) {
	op := svc.Ops[c.Operation]
	out, err = op(ctx, c, d)
	if err != nil {
		e := asError(err, svc)
		if e.Status >= 500 {
			rt.log.Error("operation failed", "service", svc.SigningName, "operation", c.Operation, "request_id", c.RequestID, "err", err)
		}
		return nil, e
	}
	return out, nil
}

func writeError(w http.ResponseWriter, p Protocol, reqID string, e *Error, svc *Service) {
	switch p {
	case Query:
		ns := ""
		if svc != nil {
			ns = svc.XMLNamespace
		}
		writeQueryError(w, ns, reqID, e)
	case RestJSON:
		writeRestError(w, e)
	case RPCv2CBOR:
		writeCBORError(w, e, svc)
	default:
		writeJSONError(w, p, e, svc)
	}
}

// requestProtocol is the protocol a request to svc speaks: smithy-rpc-v2-cbor
// by its header, awsJson when an awsQuery service is called with
// X-Amz-Target, else the service's own.
func requestProtocol(svc *Service, r *http.Request) Protocol {
	switch {
	case svc.RPCv2Service != "" && isRPCv2(r):
		return RPCv2CBOR
	case svc.Protocol == Query && svc.TargetPrefix != "" && r.Header.Get("X-Amz-Target") != "":
		return JSON10
	}
	return svc.Protocol
}

// paramsOf returns the top-level input members of a request for an
// Authorizer: awsQuery parameters, or the members of a JSON body.
func (rt *Router) paramsOf(svc *Service, in *inbound) Params {
	if svc.Protocol == Query {
		p, _ := in.params()
		return queryParams(p)
	}
	var m map[string]any
	_ = json.Unmarshal(in.body, &m)
	return jsonParams(m)
}

type queryParams map[string][]string

func (p queryParams) Get(member string) string { return first(p[member]) }

type jsonParams map[string]any

func (p jsonParams) Get(member string) string {
	if s, ok := p[member].(string); ok {
		return s
	}
	return ""
}
