package awsproto

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func FuzzJSONDecode(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"name":"x","count":1,"tags":["a"],"items":[{"name":"i","parts":[{"name":"p","labels":{"a":"b"}}]}]}`,
		`{"item":{"size":"big"}}`, `{"at":"2024-01-01T00:00:00Z"}`, `{"at":1e400}`, `{"at":"x"}`, `{"count":1.5}`,
		`{"name":` + "\"\xff\"}", `{} {}`, `{"ratio":-0}`, `{"items":{"name":1}}`, `{"tags":[null,1]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in echoInput
		if err := decodeJSON(body, &in); err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("decodeJSON(%q) returned %T %v, want *Error", body, err, err)
			}
		}
	})
}

func FuzzQueryDecode(f *testing.F) {
	for _, s := range []string{
		"", "Port=1", "Names.member.1=a&Names.member.3=c", "Flat.1=x&Flat.0=y&Flat.-1=z",
		"Inner.Tags.member.1.Key=k&Inner.Tags.member.1.Value=v", "Attrs.entry.1.key=a&Attrs.entry.1.value=b&Attrs.entry.2.value=c",
		"FlatMap.1.key=a&FlatMap.1.value=x", "At=2025-01-01T00:00:00Z&Epoch=1e99", "Blob=%zz", "Inners.member.99999999999999999999.Name=x",
		"Names=&Names.member.1=a", "Inner=x&Inner.Count=2", "a." + strings.Repeat(".", 40) + "=1", "Enabled=True&Weight=NaN",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		params := map[string][]string{}
		if err := parseForm(raw, params); err != nil {
			return
		}
		var in qInput
		err := (&queryDecoder{params: params}).Decode(&in)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Decode(%q) returned %T %v, want *Error", raw, err, err)
			}
			return
		}
		if _, err := encodeQueryResponse("ns", "Op", "id", &in); err != nil {
			t.Fatalf("encoding the decoded input of %q: %v", raw, err)
		}
	})
}

func FuzzSigV4Parse(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=test/20250314/us-east-1/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", "20250314T150926Z", "")
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20250314/us-east-1/ecs/aws4_request,SignedHeaders=host,Signature=ab", "", "")
	f.Add("AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;;, Signature=", "2025", "")
	f.Add("AWS4-HMAC-SHA256 ,,,=,=", "20250314T150926Z", "a=b&a=%zz&=")
	f.Add("Bearer token", "", "")
	f.Add("", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20250314%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20250314T150926Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00")
	f.Add("", "", "X-Amz-Signature=1&X-Amz-Expires=99999999999999999999")
	s := NewSigV4(SigV4Config{Now: fixedNow})
	strict := NewSigV4(SigV4Config{Now: fixedNow, Strict: true})
	f.Fuzz(func(t *testing.T, auth, date, query string) {
		_, _ = parseAuthorization(auth)
		req := &http.Request{Method: "POST", URL: &url.URL{Path: "/a b", RawQuery: query}, Host: "localhost", Header: http.Header{}}
		req.Header.Set("Authorization", auth)
		req.Header.Set("X-Amz-Date", date)
		for _, v := range []*SigV4{s, strict} {
			if _, err := v.Authenticate(req, []byte("{}")); err != nil {
				if _, ok := err.(*Error); !ok {
					t.Fatalf("Authenticate returned %T %v, want *Error", err, err)
				}
			}
		}
	})
}

func FuzzRouter(f *testing.F) {
	sig := "AWS4-HMAC-SHA256 Credential=AKID/20250314/us-east-1/%s/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
	f.Add("POST", "/", "FakeService_20240101.Echo", "application/x-amz-json-1.1", "", []byte(`{"name":"x"}`))
	f.Add("POST", "/", "FakeService_20240101.Boom", "application/x-amz-json-1.1", "", []byte(`{}`))
	f.Add("POST", "/", "Fake10_20240101.Fail", "", "", []byte(`{"name":`))
	f.Add("POST", "/", "", "application/x-www-form-urlencoded", strings.Replace(sig, "%s", "fakeq", 1), []byte("Action=DescribeThings&Names.member.1=a&MaxRecords=0"))
	f.Add("GET", "/?Action=DescribeThings", "", "", strings.Replace(sig, "%s", "fakeq", 1), []byte(nil))
	f.Add("GET", "/things/x?depth=2", "", "", strings.Replace(sig, "%s", "fakerest", 1), []byte(nil))
	f.Add("POST", "/things", "", "application/json", strings.Replace(sig, "%s", "fakerest", 1), []byte(`{"name":"n","parts":[{}]}`))
	f.Add("GET", "//things/../x", "", "", strings.Replace(sig, "%s", "fakerest", 1), []byte(nil))
	f.Add("BREW", "*", "x.y.z", "text/plain", "AWS4-HMAC-SHA256 Credential=test/2/3/4/5", []byte(strings.Repeat("{", 5000)))
	f.Fuzz(func(t *testing.T, method, target, amzTarget, contentType, auth string, body []byte) {
		u, err := url.ParseRequestURI(target)
		if err != nil || method == "" {
			return
		}
		var logs bytes.Buffer
		rt := NewRouter(RouterConfig{
			Auth:         NewSigV4(SigV4Config{Now: fixedNow}),
			Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
			MaxBodyBytes: 4096,
		}, fakeServices()...)
		req := &http.Request{
			Method: method, URL: u, RequestURI: target, Host: "localhost", Header: http.Header{},
			Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
		}
		for k, v := range map[string]string{"X-Amz-Target": amzTarget, "Content-Type": contentType, "Authorization": auth, "X-Amz-Date": "20250314T150926Z"} {
			if v != "" {
				req.Header.Set(k, v)
			}
		}
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, req)
		if w.Code < 200 || w.Code > 599 {
			t.Fatalf("status %d", w.Code)
		}
		if w.Header().Get("x-amzn-RequestId") == "" {
			t.Fatal("no x-amzn-RequestId")
		}
		if strings.Contains(logs.String(), "panic serving request") && !strings.Contains(logs.String(), "kaboom") {
			t.Fatalf("unexpected panic: %s", logs.String())
		}
	})
}
