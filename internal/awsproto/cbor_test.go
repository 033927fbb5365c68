package awsproto

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// multiRouter serves one awsQuery service that is also reachable over
// awsJson1.0 and smithy-rpc-v2-cbor, as CloudWatch is.
func multiRouter() *Router {
	return NewRouter(RouterConfig{DefaultRegion: "us-west-2"}, &Service{
		SigningName: "monitoring", Protocol: Query, XMLNamespace: "http://x/",
		TargetPrefix: "Multi_20100801", RPCv2Service: "Multi_20100801",
		ErrorShapes: map[string]string{"ResourceNotFoundException": "ResourceNotFoundShape"},
		Ops:         fakeOps(),
	})
}

func cborRequest(path string, body any) *http.Request {
	b, err := cbor.Marshal(body)
	if err != nil {
		panic(err)
	}
	req := httptest.NewRequest("POST", path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/cbor")
	req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
	return req
}

func TestCBORRoundTrip(t *testing.T) {
	at := time.UnixMilli(1700000000123).UTC()
	in := map[string]any{
		"name": "n", "count": 3, "ratio": 0.5, "tags": []string{"a", "b"},
		"item": map[string]any{"name": "i", "labels": map[string]string{"k": "v"}},
		"at":   cbor.Tag{Number: 1, Content: float64(at.UnixMilli()) / 1000},
	}
	w := serve(multiRouter(), cborRequest("/service/Multi_20100801/operation/Echo", in))
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/cbor" || w.Header().Get("Smithy-Protocol") != "rpc-v2-cbor" {
		t.Fatalf("%d %v %x", w.Code, w.Header(), w.Body.Bytes())
	}
	var out map[string]any
	dm, _ := cbor.DecOptions{DefaultMapType: nil, TimeTag: cbor.DecTagRequired}.DecMode()
	if err := dm.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	input := out["input"].(map[any]any)
	if input["name"] != "n" || input["count"] != uint64(3) || input["ratio"] != 0.5 || out["operation"] != "Echo" {
		t.Fatalf("%#v", out)
	}
	got, ok := input["at"].(time.Time)
	if !ok || !got.Round(time.Millisecond).Equal(at) {
		t.Fatalf("timestamp %#v, want %v (tag 1)", input["at"], at)
	}
	if _, present := input["items"]; present {
		t.Fatalf("nil list was encoded: %#v", input)
	}
}

func TestCBORErrorsQueryCompatible(t *testing.T) {
	rt := multiRouter()
	w := serve(rt, cborRequest("/service/Multi_20100801/operation/Fail", map[string]any{"name": "x"}))
	var e map[string]string
	if err := cbor.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatal(err)
	}
	if w.Code != 400 || e["__type"] != "ResourceNotFoundShape" || !strings.Contains(e["message"], `"x"`) ||
		w.Header().Get("x-amzn-query-error") != "ResourceNotFoundException;Sender" {
		t.Fatalf("%d %v %v", w.Code, w.Header(), e)
	}
	w = serve(rt, cborRequest("/service/Multi_20100801/operation/Nope", map[string]any{}))
	if w.Code != 400 || !bytes.Contains(w.Body.Bytes(), []byte("UnknownOperationException")) {
		t.Fatalf("unknown op: %d %x", w.Code, w.Body.Bytes())
	}
	bad := httptest.NewRequest("POST", "/service/Multi_20100801/operation/Echo", strings.NewReader("\xff\x00"))
	bad.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
	w = serve(rt, bad)
	if w.Code != 400 || !bytes.Contains(w.Body.Bytes(), []byte("SerializationException")) {
		t.Fatalf("bad cbor: %d %x", w.Code, w.Body.Bytes())
	}
	w = serve(rt, cborRequest("/service/Multi_20100801/operation/Echo", map[string]any{"count": "three"}))
	if w.Code != 400 || !bytes.Contains(w.Body.Bytes(), []byte("SerializationException")) {
		t.Fatalf("type mismatch: %d %x", w.Code, w.Body.Bytes())
	}
}

func TestQueryServiceAlsoSpeaksJSON10(t *testing.T) {
	rt := multiRouter()
	req := jsonRequest("Multi_20100801.Echo", `{"name":"j"}`)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	w := serve(rt, req)
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/x-amz-json-1.0" || !strings.Contains(w.Body.String(), `"name":"j"`) {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	w = serve(rt, jsonRequest("Multi_20100801.Fail", `{"name":"j"}`))
	if w.Header().Get("x-amzn-query-error") != "ResourceNotFoundException;Sender" || !strings.Contains(w.Body.String(), "ResourceNotFoundShape") {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	q := httptest.NewRequest("POST", "/", strings.NewReader("Action=Echo&Version=2010-08-01&Name=q"))
	q.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	q.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-west-2/monitoring/aws4_request, SignedHeaders=host, Signature=x")
	w = serve(rt, q)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "<EchoResponse") {
		t.Fatalf("query: %d %s", w.Code, w.Body)
	}
}
