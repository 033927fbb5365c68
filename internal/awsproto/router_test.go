package awsproto

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func jsonRequest(target, body string) *http.Request {
	req := httptest.NewRequest("POST", "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	return req
}

type jsonErr struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func serve(rt http.Handler, req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, req)
	return w
}

func wantJSONError(t *testing.T, w *httptest.ResponseRecorder, status int, code, msg string) {
	t.Helper()
	if !requestIDPattern.MatchString(w.Header().Get("x-amzn-RequestId")) {
		t.Errorf("request ID header = %q", w.Header().Get("x-amzn-RequestId"))
	}
	var e jsonErr
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	if w.Code != status || e.Type != code || w.Header().Get("X-Amzn-Errortype") != code || !strings.Contains(e.Message, msg) {
		t.Fatalf("got %d %s, want %d %s containing %q", w.Code, w.Body, status, code, msg)
	}
}

func TestRouterJSONErrors(t *testing.T) {
	rt := fakeRouter(64)
	cases := []struct {
		name, target, body string
		status             int
		code, msg          string
	}{
		{"unknown operation", "FakeService_20240101.Nope", `{}`, 400, "UnknownOperationException", "Operation Nope is not supported"},
		{"unknown prefix", "Other_1.Echo", `{}`, 400, "UnknownOperationException", "Other_1.Echo"},
		{"no dot", "FakeService_20240101", `{}`, 400, "UnknownOperationException", ""},
		{"malformed JSON", "FakeService_20240101.Echo", `{"name":`, 400, "SerializationException", "not valid JSON"},
		{"syntax error", "FakeService_20240101.Echo", `{"name" "x"}`, 400, "SerializationException", "not valid JSON"},
		{"trailing data", "FakeService_20240101.Echo", `{} {}`, 400, "SerializationException", "after the JSON document"},
		{"wrong member type", "FakeService_20240101.Echo", `{"name":5}`, 400, "SerializationException", "Unexpected value type for member name: found JSON number, expected string."},
		{"wrong nested type", "FakeService_20240101.Echo", `{"item":{"size":"big"}}`, 400, "SerializationException", "member item.size"},
		{"bad timestamp", "FakeService_20240101.Echo", `{"at":"noon"}`, 400, "SerializationException", "Invalid timestamp"},
		{"body too large", "FakeService_20240101.Echo", `{"name":"` + strings.Repeat("x", 100) + `"}`, 413, "RequestEntityTooLargeException", "limit of 64 bytes"},
		{"panic", "FakeService_20240101.Boom", `{}`, 500, "InternalFailure", "An internal error occurred. The request ID is "},
		{"modeled error", "FakeService_20240101.Fail", `{"name":"x"}`, 400, "ResourceNotFoundException", `The thing "x" does not exist.`},
		{"mapped error", "FakeService_20240101.Mapped", `{}`, 400, "ThingNotFoundException", "thing not found"},
		{"unmapped error", "FakeService_20240101.Internal", `{}`, 500, "InternalFailure", "disk on fire"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantJSONError(t, serve(rt, jsonRequest(tc.target, tc.body)), tc.status, tc.code, tc.msg)
		})
	}
}

func TestRouterBodyLimitChunked(t *testing.T) {
	// No Content-Length: the limit is enforced while reading.
	req := jsonRequest("FakeService_20240101.Echo", strings.Repeat(" ", 100))
	req.ContentLength = -1
	wantJSONError(t, serve(fakeRouter(64), req), 413, "RequestEntityTooLargeException", "")
}

func TestRouterPanicMessageHasRequestID(t *testing.T) {
	w := serve(fakeRouter(0), jsonRequest("FakeService_20240101.Boom", ""))
	id := w.Header().Get("x-amzn-RequestId")
	if !strings.Contains(w.Body.String(), id+".") {
		t.Fatalf("panic response %s does not name request %s", w.Body, id)
	}
}

func TestRouterJSONSuccess(t *testing.T) {
	w := serve(fakeRouter(0), jsonRequest("FakeService_20240101.Echo", `{"name":"n","count":2,"unknownMember":true}`))
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/x-amz-json-1.1" {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	var out echoOutput
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.Input.Name != "n" || *out.Input.Count != 2 || out.Region != "us-west-2" || out.Account != DefaultAccountID || out.Operation != "Echo" {
		t.Fatalf("%+v", out)
	}
	req := jsonRequest("Fake10_20240101.Echo", "")
	if w := serve(fakeRouter(0), req); w.Code != 200 || w.Header().Get("Content-Type") != "application/x-amz-json-1.0" {
		t.Fatalf("json 1.0: %d %v", w.Code, w.Header())
	}
}

func TestRouterAuthErrorsPerProtocol(t *testing.T) {
	rt := fakeRouter(0)
	sign := func(req *http.Request, service string) *http.Request {
		req.Header.Set("X-Amz-Date", testNow.Format(amzDateFormat))
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20250314/us-east-1/"+service+"/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000")
		return req
	}
	wantJSONError(t, serve(rt, sign(jsonRequest("FakeService_20240101.Echo", "{}"), "fake")), 400, "InvalidSignatureException", msgSignatureMismatch)

	form := httptest.NewRequest("POST", "/", strings.NewReader("Action=DescribeThings&Version=2024-01-01"))
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := serve(rt, sign(form, "fakeq"))
	if w.Code != 403 || !strings.Contains(w.Body.String(), "<Type>Sender</Type><Code>SignatureDoesNotMatch</Code>") ||
		!strings.Contains(w.Body.String(), `xmlns="https://fakeq.example.com/doc/2024-01-01/"`) {
		t.Fatalf("query: %d %s", w.Code, w.Body)
	}

	w = serve(rt, sign(httptest.NewRequest("GET", "/things/x", nil), "fakerest"))
	if w.Code != 403 || w.Header().Get("X-Amzn-Errortype") != "InvalidSignatureException" {
		t.Fatalf("rest: %d %s", w.Code, w.Body)
	}

	bad := jsonRequest("FakeService_20240101.Echo", "{}")
	bad.Header.Set("Authorization", "AWS4-HMAC-SHA256 nonsense")
	wantJSONError(t, serve(rt, bad), 400, "IncompleteSignatureException", "")
}

func TestRouterUnroutable(t *testing.T) {
	// No target, no signature: nothing tells which service is meant.
	req := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
	wantJSONError(t, serve(fakeRouter(0), req), 400, "UnknownOperationException", "Could not determine the AWS service")
}

func TestForProtocol(t *testing.T) {
	e := errInvalidSignature("x")
	if q := e.forProtocol(Query); q.Code != "SignatureDoesNotMatch" || q.Status != 403 || e.Code != "InvalidSignatureException" {
		t.Errorf("query: %+v (original %+v)", q, e)
	}
	if r := errMissingToken().forProtocol(RestJSON); r.Code != "MissingAuthenticationTokenException" || r.Status != 403 {
		t.Errorf("rest: %+v", r)
	}
	other := Errorf(400, "ClientException", "x")
	if other.forProtocol(Query) != other {
		t.Error("non-auth errors must be unchanged")
	}
}
