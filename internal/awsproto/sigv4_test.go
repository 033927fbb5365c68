package awsproto

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var testNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

func fixedNow() time.Time { return testNow }

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// authResult is what authServer reports about one request.
type authResult struct {
	id  Identity
	err *Error
}

// authServer serves requests by authenticating them with s and reporting
// the outcome on the returned channel.
func authServer(t *testing.T, s *SigV4) (*httptest.Server, <-chan authResult) {
	t.Helper()
	ch := make(chan authResult, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id, err := s.Authenticate(r, body)
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Errorf("Authenticate returned %T, want *Error", err)
		}
		ch <- authResult{id, e}
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

type signOpts struct {
	ak, sk, token    string
	service, region  string
	at               time.Time
	payloadHash      string // default: sha256 of the body
	header           http.Header
	tamperBody       []byte // sent instead of the signed body
	tamperHeaderName string
	tamperHeaderVal  string
}

// send signs a request with the SDK's signer and sends it to srv.
func send(t *testing.T, srv *httptest.Server, ch <-chan authResult, method, target string, body []byte, o signOpts) authResult {
	t.Helper()
	if o.ak == "" {
		o.ak, o.sk = "test", "test"
	}
	if o.service == "" {
		o.service = "ecs"
	}
	if o.region == "" {
		o.region = "eu-west-1"
	}
	if o.at.IsZero() {
		o.at = testNow
	}
	req, err := http.NewRequest(method, srv.URL+target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range o.header {
		req.Header[k] = v
	}
	hash := o.payloadHash
	if hash == "" {
		hash = sha256Hex(body)
	}
	creds := aws.Credentials{AccessKeyID: o.ak, SecretAccessKey: o.sk, SessionToken: o.token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, o.service, o.region, o.at); err != nil {
		t.Fatal(err)
	}
	if o.tamperBody != nil {
		req.Body = io.NopCloser(bytes.NewReader(o.tamperBody))
		req.ContentLength = int64(len(o.tamperBody))
	}
	if o.tamperHeaderName != "" {
		req.Header.Set(o.tamperHeaderName, o.tamperHeaderVal)
	}
	return do(t, req, ch)
}

func do(t *testing.T, req *http.Request, ch <-chan authResult) authResult {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no result from server")
	}
	return authResult{}
}

func wantOK(t *testing.T, r authResult, want Identity) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("unexpected error: %v", r.err)
	}
	if r.id != want {
		t.Fatalf("identity = %+v, want %+v", r.id, want)
	}
}

func wantErr(t *testing.T, r authResult, code, msgPrefix string) {
	t.Helper()
	if r.err == nil {
		t.Fatalf("request accepted as %+v, want %s", r.id, code)
	}
	if r.err.Code != code || !strings.HasPrefix(r.err.Message, msgPrefix) {
		t.Fatalf("error = %s (%d), want %s: %q...", r.err, r.err.Status, code, msgPrefix)
	}
}

func TestSigV4SDKSigning(t *testing.T) {
	s := NewSigV4(SigV4Config{Now: fixedNow})
	srv, ch := authServer(t, s)
	body := []byte(`{"clusterName":"demo"}`)
	jsonHeaders := http.Header{
		"X-Amz-Target": {"AmazonEC2ContainerServiceV20141113.CreateCluster"},
		"Content-Type": {"application/x-amz-json-1.1"},
	}
	okID := Identity{AccessKey: "test", Account: DefaultAccountID, Region: "eu-west-1", Service: "ecs"}

	t.Run("valid", func(t *testing.T) {
		wantOK(t, send(t, srv, ch, "POST", "/", body, signOpts{header: jsonHeaders}), okID)
	})
	t.Run("empty body GET with odd path and query", func(t *testing.T) {
		r := send(t, srv, ch, "GET", "/clusters/my%20cluster/a%2Fb/%E2%9C%93/x+y~?maxResults=10&b=2&a=z&a=%20y+&empty=&flag&t=a%2Fb", nil, signOpts{service: "eks"})
		wantOK(t, r, Identity{AccessKey: "test", Account: DefaultAccountID, Region: "eu-west-1", Service: "eks"})
	})
	t.Run("spaces in header values", func(t *testing.T) {
		h := jsonHeaders.Clone()
		h.Set("X-Amz-Meta-Note", "  lots   of    space  ")
		wantOK(t, send(t, srv, ch, "POST", "/", body, signOpts{header: h}), okID)
	})
	t.Run("wrong secret", func(t *testing.T) {
		wantErr(t, send(t, srv, ch, "POST", "/", body, signOpts{ak: "test", sk: "wrong", header: jsonHeaders}),
			"InvalidSignatureException", msgSignatureMismatch)
	})
	t.Run("tampered body", func(t *testing.T) {
		r := send(t, srv, ch, "POST", "/", body, signOpts{header: jsonHeaders, tamperBody: []byte(`{"clusterName":"evil"}`)})
		wantErr(t, r, "InvalidSignatureException", msgSignatureMismatch)
	})
	t.Run("tampered signed header", func(t *testing.T) {
		r := send(t, srv, ch, "POST", "/", body, signOpts{header: jsonHeaders,
			tamperHeaderName: "X-Amz-Target", tamperHeaderVal: "AmazonEC2ContainerServiceV20141113.DeleteCluster"})
		wantErr(t, r, "InvalidSignatureException", msgSignatureMismatch)
	})
	t.Run("unsigned header may change", func(t *testing.T) {
		r := send(t, srv, ch, "POST", "/", body, signOpts{header: jsonHeaders, tamperHeaderName: "User-Agent", tamperHeaderVal: "other"})
		wantOK(t, r, okID)
	})
	t.Run("skew 14 min passes", func(t *testing.T) {
		wantOK(t, send(t, srv, ch, "POST", "/", body, signOpts{header: jsonHeaders, at: testNow.Add(-14 * time.Minute)}), okID)
		wantOK(t, send(t, srv, ch, "POST", "/", body, signOpts{header: jsonHeaders, at: testNow.Add(14 * time.Minute)}), okID)
	})
	t.Run("skew 16 min fails", func(t *testing.T) {
		r := send(t, srv, ch, "POST", "/", body, signOpts{header: jsonHeaders, at: testNow.Add(-16 * time.Minute)})
		wantErr(t, r, "InvalidSignatureException",
			"Signature expired: 20250314T145326Z is now earlier than 20250314T145426Z (20250314T150926Z - 15 min.)")
		r = send(t, srv, ch, "POST", "/", body, signOpts{header: jsonHeaders, at: testNow.Add(16 * time.Minute)})
		wantErr(t, r, "InvalidSignatureException",
			"Signature not yet current: 20250314T152526Z is still later than 20250314T152426Z (20250314T150926Z + 15 min.)")
	})
	t.Run("unknown key accepted when not strict", func(t *testing.T) {
		r := send(t, srv, ch, "POST", "/", body, signOpts{ak: "AKIDUNKNOWN", sk: "whatever", header: jsonHeaders})
		wantOK(t, r, Identity{AccessKey: "AKIDUNKNOWN", Account: DefaultAccountID, Region: "eu-west-1", Service: "ecs"})
	})
	t.Run("unsigned accepted when not strict", func(t *testing.T) {
		req, _ := http.NewRequest("POST", srv.URL+"/", bytes.NewReader(body))
		wantOK(t, do(t, req, ch), Identity{Account: DefaultAccountID})
	})
	t.Run("content sha256 header", func(t *testing.T) {
		h := jsonHeaders.Clone()
		h.Set("X-Amz-Content-Sha256", sha256Hex(body))
		wantOK(t, send(t, srv, ch, "POST", "/", body, signOpts{header: h}), okID)
		h.Set("X-Amz-Content-Sha256", unsignedPayload)
		wantOK(t, send(t, srv, ch, "POST", "/", body, signOpts{header: h, payloadHash: unsignedPayload}), okID)
		h.Set("X-Amz-Content-Sha256", sha256Hex([]byte("other")))
		wantErr(t, send(t, srv, ch, "POST", "/", body, signOpts{header: h}), "InvalidSignatureException", "The provided 'x-amz-content-sha256'")
	})
}

func TestSigV4Strict(t *testing.T) {
	s := NewSigV4(SigV4Config{Now: fixedNow, Strict: true, DefaultAccount: "000000000000"})
	srv, ch := authServer(t, s)
	wantErr(t, send(t, srv, ch, "POST", "/", nil, signOpts{ak: "AKIDUNKNOWN", sk: "x"}),
		"UnrecognizedClientException", "The security token included in the request is invalid.")
	req, _ := http.NewRequest("POST", srv.URL+"/", nil)
	wantErr(t, do(t, req, ch), "MissingAuthenticationTokenException", "Missing Authentication Token")
	// Strict knows only the configured keys: the public test/test pair is
	// refused like any unknown key.
	wantErr(t, send(t, srv, ch, "POST", "/", nil, signOpts{}),
		"UnrecognizedClientException", "The security token included in the request is invalid.")
	s = NewSigV4(SigV4Config{Now: fixedNow, Strict: true, DefaultAccount: "000000000000",
		Keys: map[string]Credential{"AKIAOPERATOR": {SecretKey: "op-secret"}}})
	srv, ch = authServer(t, s)
	wantOK(t, send(t, srv, ch, "POST", "/", nil, signOpts{ak: "AKIAOPERATOR", sk: "op-secret"}),
		Identity{AccessKey: "AKIAOPERATOR", Account: "000000000000", Region: "eu-west-1", Service: "ecs"})
	wantErr(t, send(t, srv, ch, "POST", "/", nil, signOpts{}),
		"UnrecognizedClientException", "The security token included in the request is invalid.")
}

func TestSigV4SessionToken(t *testing.T) {
	s := NewSigV4(SigV4Config{Now: fixedNow, Keys: map[string]Credential{
		"ASIATEMP": {SecretKey: "sekrit", Account: "222233334444", SessionToken: "tok"},
	}})
	srv, ch := authServer(t, s)
	want := Identity{AccessKey: "ASIATEMP", Account: "222233334444", Region: "eu-west-1", Service: "ecs"}
	wantOK(t, send(t, srv, ch, "POST", "/", nil, signOpts{ak: "ASIATEMP", sk: "sekrit", token: "tok"}), want)
	wantErr(t, send(t, srv, ch, "POST", "/", nil, signOpts{ak: "ASIATEMP", sk: "sekrit"}),
		"UnrecognizedClientException", "The security token")
	wantErr(t, send(t, srv, ch, "POST", "/", nil, signOpts{ak: "ASIATEMP", sk: "sekrit", token: "other"}),
		"UnrecognizedClientException", "The security token")
}

func TestSigV4Presigned(t *testing.T) {
	s := NewSigV4(SigV4Config{Now: fixedNow})
	srv, ch := authServer(t, s)
	presign := func(at time.Time, expires time.Duration, sk string) *http.Request {
		t.Helper()
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=%d", srv.URL, int(expires/time.Second)), nil)
		u, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: "test", SecretAccessKey: sk},
			req, sha256Hex(nil), "sts", "us-east-1", at)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := http.NewRequest("GET", u, nil)
		for k, v := range hdr {
			if !strings.EqualFold(k, "host") {
				out.Header[k] = v
			}
		}
		return out
	}
	want := Identity{AccessKey: "test", Account: DefaultAccountID, Region: "us-east-1", Service: "sts"}
	wantOK(t, do(t, presign(testNow.Add(-time.Hour), 2*time.Hour, "test"), ch), want)
	wantErr(t, do(t, presign(testNow.Add(-time.Hour), 2*time.Hour, "bad"), ch), "InvalidSignatureException", msgSignatureMismatch)
	r := do(t, presign(testNow.Add(-time.Hour), 15*time.Minute, "test"), ch)
	wantErr(t, r, "AccessDeniedException", "Request has expired")
	if r.err.Status != http.StatusForbidden {
		t.Errorf("expired presign status = %d, want 403", r.err.Status)
	}
	// Tampering with a signed query parameter breaks the signature.
	req := presign(testNow, time.Hour, "test")
	req.URL.RawQuery = strings.Replace(req.URL.RawQuery, "GetCallerIdentity", "GetSessionToken", 1)
	wantErr(t, do(t, req, ch), "InvalidSignatureException", msgSignatureMismatch)
}

func TestSigV4CredentialsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	err := os.WriteFile(path, []byte(`
# berth keys
[default]
aws_access_key_id = AKIAALICE
aws_secret_access_key = alice-secret
account_id = 111122223333

[profile bob]
aws_access_key_id=AKIABOB
aws_secret_access_key=bob-secret

[incomplete]
aws_access_key_id = AKIANOSECRET
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cfg := SigV4Config{Now: fixedNow, Strict: true}
	if err := cfg.LoadCredentialsFile(path); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Keys) != 2 {
		t.Fatalf("keys = %v, want AKIAALICE and AKIABOB", cfg.Keys)
	}
	srv, ch := authServer(t, NewSigV4(cfg))
	wantOK(t, send(t, srv, ch, "POST", "/", []byte("{}"), signOpts{ak: "AKIAALICE", sk: "alice-secret"}),
		Identity{AccessKey: "AKIAALICE", Account: "111122223333", Region: "eu-west-1", Service: "ecs"})
	wantOK(t, send(t, srv, ch, "POST", "/", []byte("{}"), signOpts{ak: "AKIABOB", sk: "bob-secret"}),
		Identity{AccessKey: "AKIABOB", Account: DefaultAccountID, Region: "eu-west-1", Service: "ecs"})
	wantErr(t, send(t, srv, ch, "POST", "/", []byte("{}"), signOpts{ak: "AKIAALICE", sk: "bob-secret"}),
		"InvalidSignatureException", msgSignatureMismatch)
	wantErr(t, send(t, srv, ch, "POST", "/", []byte("{}"), signOpts{ak: "AKIANOSECRET", sk: "x"}),
		"UnrecognizedClientException", "")

	if _, err := ParseCredentials(strings.NewReader("aws_access_key_id = x\n")); err == nil {
		t.Error("key outside a section: want an error")
	}
	if err := (&SigV4Config{}).LoadCredentialsFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file: want an error")
	}
}

func TestSigV4Malformed(t *testing.T) {
	s := NewSigV4(SigV4Config{Now: fixedNow})
	date := testNow.Format(amzDateFormat)
	good := "AWS4-HMAC-SHA256 Credential=test/20250314/us-east-1/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd"
	cases := []struct {
		name, auth, date, query, code, msg string
	}{
		{"other algorithm", "Bearer abc", date, "", "IncompleteSignatureException", "Unsupported authorization algorithm 'Bearer'"},
		{"no pairs", "AWS4-HMAC-SHA256", date, "", "IncompleteSignatureException", "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter."},
		{"missing equal sign", "AWS4-HMAC-SHA256 Credential", date, "", "IncompleteSignatureException", "'Credential' not a valid key=value pair"},
		{"short scope", "AWS4-HMAC-SHA256 Credential=test/20250314/us-east-1, SignedHeaders=host, Signature=ab", date, "", "IncompleteSignatureException", "Credential should be scoped as"},
		{"bad terminator", "AWS4-HMAC-SHA256 Credential=test/20250314/us-east-1/ecs/aws5_request, SignedHeaders=host, Signature=ab", date, "", "IncompleteSignatureException", "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."},
		{"bad scope date", "AWS4-HMAC-SHA256 Credential=test/2025-3-14/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=ab", date, "", "IncompleteSignatureException", "Credential should be scoped to a valid date"},
		{"host not signed", "AWS4-HMAC-SHA256 Credential=test/20250314/us-east-1/ecs/aws4_request, SignedHeaders=x-amz-date, Signature=ab", date, "", "IncompleteSignatureException", "'Host' or ':authority' must be a 'SignedHeader'"},
		{"no date", good, "", "", "IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
		{"bad date", good, "2025-03-14T15:09:26Z", "", "IncompleteSignatureException", "Date must be in ISO-8601 'basic format'."},
		{"scope date mismatch", good, "20250315T000000Z", "", "InvalidSignatureException", "Date in Credential scope does not match YYYYMMDD"},
		{"header and query auth", good, date, "X-Amz-Algorithm=AWS4-HMAC-SHA256", "IncompleteSignatureException", "Only one auth mechanism allowed"},
		{"presign missing parts", "", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256", "IncompleteSignatureException", "AWS query-string parameters must include 'X-Amz-Credential'."},
		{"presign bad expires", "", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20250314%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Signature=ab&X-Amz-SignedHeaders=host&X-Amz-Date=" + date + "&X-Amz-Expires=-1", "IncompleteSignatureException", "X-Amz-Expires must be"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "http://localhost/?"+tc.query, nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			if tc.date != "" {
				req.Header.Set("X-Amz-Date", tc.date)
			}
			_, err := s.Authenticate(req, nil)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Code != tc.code || !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("err = %v, want %s containing %q", e, tc.code, tc.msg)
			}
		})
	}
}

func TestSigV4DateHeader(t *testing.T) {
	// A request dated by the Date header (no X-Amz-Date), signed by hand.
	s := NewSigV4(SigV4Config{Now: fixedNow})
	req := httptest.NewRequest("GET", "http://localhost/?b=1&a=2", nil)
	req.Header.Set("Date", testNow.Format(http.TimeFormat))
	q := &sigRequest{accessKey: "test", scopeDate: "20250314", region: "us-east-1", service: "eks",
		signedHeaders: []string{"date", "host"}, amzDate: testNow.Format(amzDateFormat)}
	key := signingKey("test", q.scopeDate, q.region, q.service)
	sig := signString(key, stringToSign(q, canonicalRequest(req, q, sha256Hex(nil))))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20250314/us-east-1/eks/aws4_request,SignedHeaders=date;host,Signature="+sig)
	if _, err := s.Authenticate(req, nil); err != nil {
		t.Fatal(err)
	}
}

func TestCanonicalPieces(t *testing.T) {
	if got, want := canonicalQuery("b=2&a=%20y+&a=z&flag&X-Amz-Signature=1&c=%zz", true), "a=%20y%20&a=z&b=2&c=%25zz&flag="; got != want {
		t.Errorf("canonicalQuery = %q, want %q", got, want)
	}
	req := httptest.NewRequest("GET", "http://h/a%20b/c%2Fd", nil)
	if got, want := canonicalURI(req, "ecs"), "/a%2520b/c%252Fd"; got != want {
		t.Errorf("canonicalURI(ecs) = %q, want %q", got, want)
	}
	if got, want := canonicalURI(req, "s3"), "/a%20b/c%2Fd"; got != want {
		t.Errorf("canonicalURI(s3) = %q, want %q", got, want)
	}
	if got := collapseSpaces("  a   b  c "); got != "a b c" {
		t.Errorf("collapseSpaces = %q", got)
	}
}
