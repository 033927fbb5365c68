package awsproto

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
)

type qTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type qInner struct {
	Name  string  `json:"name"`
	Count *int    `json:"count,omitempty"`
	Tags  []qTag  `json:"tags,omitempty"`
	Ratio float64 `json:"ratio,omitempty"`
}

type qInput struct {
	TargetGroupArn string            `json:"targetGroupArn"`
	Port           int32             `json:"port"`
	Enabled        *bool             `json:"enabled,omitempty"`
	Weight         float64           `json:"weight"`
	Names          []string          `json:"names"`
	Flat           []string          `query:"Flat"`
	Inner          *qInner           `json:"inner,omitempty"`
	Inners         []qInner          `json:"inners"`
	Attrs          map[string]string `json:"attrs"`
	FlatMap        map[string]int    `query:"FlatMap"`
	At             time.Time         `json:"at"`
	Epoch          *EpochTime        `json:"epoch"`
	Blob           []byte            `json:"blob"`
	Renamed        string            `json:"renamed" query:"OtherName"`
	Skipped        string            `query:"-"`
	Hidden         string            `json:"-"`
	NoTag          string
	Empty          []string `json:"empty"`
	unexported     string
}

func decodeQueryString(t *testing.T, raw string, v any) error {
	t.Helper()
	params, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	return (&queryDecoder{params: params}).Decode(v)
}

func TestQueryDecode(t *testing.T) {
	raw := strings.Join([]string{
		"Action=Test", "Version=2015-12-01",
		"TargetGroupArn=arn%3Aaws%3Aelasticloadbalancing%3Atg", "Port=8080", "Enabled=TRUE", "Weight=0.5",
		"Names.member.2=b", "Names.member.1=a", "Names.member.10=j",
		"Flat.1=x", "Flat.2=y",
		"Inner.Name=in", "Inner.Count=3", "Inner.Tags.member.1.Key=k1", "Inner.Tags.member.1.Value=v1", "Inner.Ratio=1e3",
		"Inners.member.1.Name=first", "Inners.member.2.Name=second", "Inners.member.2.Tags.member.1.Key=k",
		"Attrs.entry.1.key=color", "Attrs.entry.1.value=blue", "Attrs.entry.2.key=size", "Attrs.entry.2.value=L",
		"FlatMap.1.key=a", "FlatMap.1.value=1",
		"At=2025-01-02T03%3A04%3A05.678Z", "Epoch=1700000000",
		"Blob=aGVsbG8%3D", "OtherName=ren", "Skipped=no", "Hidden=no", "NoTag=yes", "Empty=",
		"Unknown.member.1=ignored",
	}, "&")
	var got qInput
	if err := decodeQueryString(t, raw, &got); err != nil {
		t.Fatal(err)
	}
	three := 3
	yes := true
	want := qInput{
		TargetGroupArn: "arn:aws:elasticloadbalancing:tg", Port: 8080, Enabled: &yes, Weight: 0.5,
		Names: []string{"a", "b", "j"}, Flat: []string{"x", "y"},
		Inner:   &qInner{Name: "in", Count: &three, Tags: []qTag{{"k1", "v1"}}, Ratio: 1000},
		Inners:  []qInner{{Name: "first"}, {Name: "second", Tags: []qTag{{Key: "k"}}}},
		Attrs:   map[string]string{"color": "blue", "size": "L"},
		FlatMap: map[string]int{"a": 1},
		At:      time.Date(2025, 1, 2, 3, 4, 5, 678e6, time.UTC),
		Epoch:   &EpochTime{time.Unix(1700000000, 0).UTC()},
		Blob:    []byte("hello"), Renamed: "ren", NoTag: "yes", Empty: []string{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", got, want)
	}
}

func TestQueryDecodeErrors(t *testing.T) {
	cases := []struct{ raw, msg string }{
		{"Port=eighty", "1 validation error detected: Value 'eighty' at 'port' failed to satisfy constraint: Member must be an integer within range"},
		{"Port=99999999999", "Value '99999999999' at 'port'"},
		{"Enabled=yes", "Value 'yes' at 'enabled' failed to satisfy constraint: Member must be a boolean"},
		{"Weight=heavy", "Member must be a number"},
		{"Inner.Count=x", "Value 'x' at 'inner.count'"},
		{"Inners.member.2.Tags.member.1.Key=k&Inners.member.3.Count=z", "Value 'z' at 'inners.member.3.count'"},
		{"At=yesterday", "Member must be a timestamp"},
		{"Blob=!!!", "Member must be base64-encoded"},
		{"FlatMap.entry.1.key=a&FlatMap.entry.1.value=b", "Value 'b' at 'flatMap.entry.1.value'"},
	}
	for _, tc := range cases {
		var in qInput
		err := decodeQueryString(t, tc.raw, &in)
		var e *Error
		if !errors.As(err, &e) || e.Code != "ValidationError" || e.Status != 400 || !strings.Contains(e.Message, tc.msg) {
			t.Errorf("%s: err = %v, want ValidationError containing %q", tc.raw, err, tc.msg)
		}
	}
}

type qOutput struct {
	Name      string            `json:"name"`
	Count     int               `json:"count"`
	Zero      int               `json:"zero,omitempty"`
	Missing   *string           `json:"missing"`
	Items     []qInner          `json:"items"`
	NilItems  []string          `json:"nilItems"`
	NoItems   []string          `json:"noItems"`
	Attrs     map[string]string `json:"attrs"`
	Created   time.Time         `json:"created"`
	Updated   *EpochTime        `json:"updated"`
	Flag      bool              `json:"flag"`
	Escaped   string            `query:"Escaped"`
	LocalOnly string            `json:"-" location:"header" locationName:"X-Foo"`
}

func TestQueryEncode(t *testing.T) {
	two := 2
	out := &qOutput{
		Name: "n", Count: 1, Items: []qInner{{Name: "a", Count: &two}, {Name: "b", Tags: []qTag{{"k", "v"}}}},
		NoItems: []string{}, Attrs: map[string]string{"z": "1", "a": "2"},
		Created: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Updated: Epoch(time.Date(2025, 1, 2, 3, 4, 5, 6e6, time.FixedZone("x", 3600))),
		Escaped: `<a & "b">`, LocalOnly: "x",
	}
	b, err := encodeQueryResponse("https://example.com/doc/2015-12-01/", "Describe", "rid", out)
	if err != nil {
		t.Fatal(err)
	}
	want := `<DescribeResponse xmlns="https://example.com/doc/2015-12-01/"><DescribeResult>` +
		`<Name>n</Name><Count>1</Count>` +
		`<Items><member><Name>a</Name><Count>2</Count></member><member><Name>b</Name><Tags><member><Key>k</Key><Value>v</Value></member></Tags></member></Items>` +
		`<NoItems></NoItems>` +
		`<Attrs><entry><key>a</key><value>2</value></entry><entry><key>z</key><value>1</value></entry></Attrs>` +
		`<Created>2025-01-02T03:04:05Z</Created><Updated>2025-01-02T02:04:05.006Z</Updated><Flag>false</Flag>` +
		`<Escaped>&lt;a &amp; &#34;b&#34;&gt;</Escaped>` +
		`</DescribeResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DescribeResponse>`
	if string(b) != want {
		t.Fatalf("got\n%s\nwant\n%s", b, want)
	}
	if _, err := encodeQueryResponse("", "X", "r", 42); err == nil {
		t.Error("non-struct output: want an error")
	}
	b, _ = encodeQueryResponse("", "Delete", "r", nil)
	if string(b) != `<DeleteResponse><DeleteResult></DeleteResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteResponse>` {
		t.Errorf("nil output: %s", b)
	}
}

// A minimal STS served through the Router, driven by the real SDK client.

const stsNS = "https://sts.amazonaws.com/doc/2011-06-15/"

type gciOutput struct {
	UserId  string `json:"userId"`
	Account string `json:"account"`
	Arn     string `json:"arn"`
}

type assumeRoleInput struct {
	RoleArn           string   `json:"roleArn"`
	RoleSessionName   string   `json:"roleSessionName"`
	DurationSeconds   *int32   `json:"durationSeconds"`
	Tags              []qTag   `json:"tags"`
	TransitiveTagKeys []string `json:"transitiveTagKeys"`
	PolicyArns        []struct {
		Arn string `json:"arn"`
	} `json:"policyArns"`
}

type stsCredentials struct {
	AccessKeyId     string    `json:"accessKeyId"`
	SecretAccessKey string    `json:"secretAccessKey"`
	SessionToken    string    `json:"sessionToken"`
	Expiration      time.Time `json:"expiration"`
}

type assumeRoleOutput struct {
	Credentials     stsCredentials `json:"credentials"`
	AssumedRoleUser struct {
		Arn           string `json:"arn"`
		AssumedRoleId string `json:"assumedRoleId"`
	} `json:"assumedRoleUser"`
	PackedPolicySize *int32 `json:"packedPolicySize,omitempty"`
}

func testSTS(seen chan<- *assumeRoleInput) *Service {
	return &Service{
		SigningName: "sts", Protocol: Query, XMLNamespace: stsNS,
		Ops: map[string]Op{
			"GetCallerIdentity": Handle(func(ctx context.Context, c *Call, in *struct{}) (any, error) {
				return &gciOutput{UserId: c.AccessKey, Account: c.Account, Arn: "arn:aws:iam::" + c.Account + ":user/" + c.Region}, nil
			}),
			"AssumeRole": Handle(func(ctx context.Context, c *Call, in *assumeRoleInput) (any, error) {
				if seen != nil {
					seen <- in
				}
				switch {
				case strings.HasSuffix(in.RoleArn, "/malformed"):
					return nil, Errorf(400, "MalformedPolicyDocument", "The policy is not valid JSON.")
				case strings.HasSuffix(in.RoleArn, "/denied"):
					return nil, Errorf(403, "AccessDenied", "User is not authorized to perform: sts:AssumeRole")
				case strings.HasSuffix(in.RoleArn, "/boom"):
					return nil, errors.New("disk on fire")
				}
				out := &assumeRoleOutput{Credentials: stsCredentials{
					AccessKeyId: "ASIAEXAMPLE", SecretAccessKey: "s", SessionToken: "tok",
					Expiration: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
				}}
				out.AssumedRoleUser.Arn = in.RoleArn + "/" + in.RoleSessionName
				size := int32(6)
				out.PackedPolicySize = &size
				return out, nil
			}),
		},
	}
}

func stsClient(url, ak, sk string) *sts.Client {
	return sts.New(sts.Options{
		Region:       "eu-central-1",
		BaseEndpoint: aws.String(url),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}, nil
		}),
		Retryer: aws.NopRetryer{},
	})
}

func TestQuerySTSClient(t *testing.T) {
	seen := make(chan *assumeRoleInput, 1)
	auth := NewSigV4(SigV4Config{Keys: map[string]Credential{"AKIAALICE": {SecretKey: "alice", Account: "111122223333"}}})
	srv := httptest.NewServer(NewRouter(RouterConfig{Auth: auth}, testSTS(seen)))
	defer srv.Close()
	ctx := context.Background()

	gci, err := stsClient(srv.URL, "AKIAALICE", "alice").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(gci.Account) != "111122223333" || aws.ToString(gci.UserId) != "AKIAALICE" ||
		aws.ToString(gci.Arn) != "arn:aws:iam::111122223333:user/eu-central-1" {
		t.Fatalf("GetCallerIdentity = %+v", gci)
	}

	client := stsClient(srv.URL, "test", "test")
	ar, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::123456789012:role/app"), RoleSessionName: aws.String("s1"),
		DurationSeconds:   aws.Int32(900),
		Tags:              []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("core")}, {Key: aws.String("env"), Value: aws.String("dev & test")}},
		TransitiveTagKeys: []string{"team"},
		PolicyArns:        []ststypes.PolicyDescriptorType{{Arn: aws.String("arn:aws:iam::aws:policy/ReadOnly")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	in := <-seen
	if in.RoleSessionName != "s1" || aws.ToInt32(in.DurationSeconds) != 900 || len(in.Tags) != 2 || in.Tags[1] != (qTag{"env", "dev & test"}) ||
		!reflect.DeepEqual(in.TransitiveTagKeys, []string{"team"}) || len(in.PolicyArns) != 1 || in.PolicyArns[0].Arn != "arn:aws:iam::aws:policy/ReadOnly" {
		t.Fatalf("server decoded %+v", in)
	}
	c := ar.Credentials
	if aws.ToString(c.AccessKeyId) != "ASIAEXAMPLE" || !aws.ToTime(c.Expiration).Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) ||
		aws.ToString(ar.AssumedRoleUser.Arn) != "arn:aws:iam::123456789012:role/app/s1" || aws.ToInt32(ar.PackedPolicySize) != 6 {
		t.Fatalf("AssumeRole = %+v %+v", c, ar.AssumedRoleUser)
	}

	assume := func(role string) error {
		_, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::1:role/" + role), RoleSessionName: aws.String("x")})
		<-seen
		return err
	}
	var malformed *ststypes.MalformedPolicyDocumentException
	if err := assume("malformed"); !errors.As(err, &malformed) || malformed.ErrorMessage() != "The policy is not valid JSON." {
		t.Fatalf("err = %v, want MalformedPolicyDocumentException", err)
	}
	wantAPIError(t, assume("denied"), "AccessDenied", 403)
	wantAPIError(t, assume("boom"), "InternalFailure", 500)

	_, err = stsClient(srv.URL, "AKIAALICE", "wrong").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "SignatureDoesNotMatch", 403)
}

func TestQueryStrictUnknownKey(t *testing.T) {
	srv := httptest.NewServer(NewRouter(RouterConfig{Auth: NewSigV4(SigV4Config{Strict: true})}, testSTS(nil)))
	defer srv.Close()
	_, err := stsClient(srv.URL, "AKIDUNKNOWN", "x").GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "InvalidClientTokenId", 403)
}

func wantAPIError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("err = %v, want API error %s", err, code)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("err = %v, want HTTP %d", err, status)
	}
	if re.ServiceRequestID() == "" {
		t.Errorf("no request ID in %v", err)
	}
}

func TestQueryRouting(t *testing.T) {
	rt := NewRouter(RouterConfig{}, testSTS(nil))
	post := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00")
		req.Header.Set("X-Amz-Date", "20250101T000000Z")
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, req)
		return w
	}
	for _, tc := range []struct{ body, code string }{
		{"Version=2011-06-15", "MissingAction"},
		{"Action=Nope&Version=2011-06-15", "InvalidAction"},
		{"Action=AssumeRole&DurationSeconds=abc", "ValidationError"},
		{"Action=AssumeRole&Bad=%zz", "MalformedQueryString"},
	} {
		w := post(tc.body)
		if w.Code != 400 || !strings.Contains(w.Body.String(), "<Code>"+tc.code+"</Code>") ||
			!strings.HasPrefix(w.Body.String(), `<ErrorResponse xmlns="`+stsNS+`"><Error><Type>Sender</Type>`) ||
			w.Header().Get("Content-Type") != "text/xml" {
			t.Errorf("%s: %d %s", tc.body, w.Code, w.Body)
		}
	}
	// Parameters may also come in the query string (GET).
	req := httptest.NewRequest("GET", "/?Action=GetCallerIdentity&Version=2011-06-15", nil)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00")
	req.Header.Set("X-Amz-Date", "20250101T000000Z")
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, req)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "<Account>123456789012</Account>") {
		t.Errorf("GET: %d %s", w.Code, w.Body)
	}
	_ = http.StatusOK
}
