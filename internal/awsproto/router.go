package awsproto

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
}

// Authenticator verifies a request's signature. body is the whole request
// body (already read). It returns an *Error (IncompleteSignature,
// InvalidSignatureException, ...) on failure.
type Authenticator interface {
	Authenticate(r *http.Request, body []byte) (Identity, error)
}

// Router serves AWS API requests for a set of services.
type Router struct {
	auth          Authenticator
	log           *slog.Logger
	defaultRegion string
	maxBody       int64
	byTarget      map[string]*Service // JSON: X-Amz-Target prefix
	bySigning     map[string]*Service
	rest          map[*Service]*http.ServeMux
}

// RouterConfig configures a Router.
type RouterConfig struct {
	Auth          Authenticator
	Logger        *slog.Logger
	DefaultRegion string
	MaxBodyBytes  int64
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
	rt := &Router{
		auth: cfg.Auth, log: cfg.Logger, defaultRegion: cfg.DefaultRegion, maxBody: cfg.MaxBodyBytes,
		byTarget: map[string]*Service{}, bySigning: map[string]*Service{}, rest: map[*Service]*http.ServeMux{},
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
	proto := rt.guessProtocol(r)
	defer func() {
		if p := recover(); p != nil {
			rt.log.Error("panic serving request", "panic", fmt.Sprint(p), "request_id", reqID, "stack", string(debug.Stack()))
			writeError(w, proto, reqID, errInternal("An internal error occurred. The request ID is "+reqID+"."), nil)
		}
	}()

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rt.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, proto, reqID, Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException",
				"Request body exceeds the limit of %d bytes.", rt.maxBody), nil)
			return
		}
		writeError(w, proto, reqID, Errorf(http.StatusBadRequest, "SerializationException", "Could not read request body: %v", err), nil)
		return
	}

	id := Identity{Region: rt.defaultRegion}
	if rt.auth != nil {
		got, err := rt.auth.Authenticate(r, body)
		if err != nil {
			writeError(w, proto, reqID, asError(err, nil), nil)
			return
		}
		id = got
		if id.Region == "" {
			id.Region = rt.defaultRegion
		}
	}

	svc, op, perr := rt.resolve(r, body, id)
	if perr != nil {
		writeError(w, proto, reqID, perr, svc)
		return
	}
	c := &Call{
		Service: svc.SigningName, Operation: op, Region: id.Region, Account: id.Account,
		AccessKey: id.AccessKey, RequestID: reqID, HTTP: r,
	}
	switch svc.Protocol {
	case JSON10, JSON11:
		rt.serveJSON(w, r.Context(), svc, c, body)
	case Query:
		rt.serveQuery(w, r.Context(), svc, c, body)
	case RestJSON:
		rt.serveRest(w, r, svc, c, body)
	}
}

// guessProtocol picks the error encoding before the service is known.
func (rt *Router) guessProtocol(r *http.Request) Protocol {
	if r.Header.Get("X-Amz-Target") != "" {
		return JSON11
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return Query
	}
	if svc := rt.bySigning[scopeService(r)]; svc != nil {
		return svc.Protocol
	}
	return JSON11
}

// resolve finds the service and operation of a request.
func (rt *Router) resolve(r *http.Request, body []byte, id Identity) (*Service, string, *Error) {
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
		op := queryAction(r, body)
		if op == "" {
			return svc, "", Errorf(http.StatusBadRequest, "MissingAction", "Missing Action parameter.")
		}
		if _, ok := svc.Ops[op]; !ok {
			return svc, "", Errorf(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version %s.", op, queryParam(r, body, "Version"))
		}
		return svc, op, nil
	case RestJSON:
		return svc, "", nil // resolved by the service's mux
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
		writeQueryError(w, reqID, e)
	case RestJSON:
		writeRestError(w, e)
	default:
		writeJSONError(w, p, e)
	}
}
