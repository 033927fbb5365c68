package awsproto

import (
	"context"
	"errors"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
)

// A minimal EKS served through the Router, driven by the real SDK client.

type eksCluster struct {
	Name      string            `json:"name"`
	Arn       string            `json:"arn"`
	Version   string            `json:"version,omitempty"`
	RoleArn   string            `json:"roleArn,omitempty"`
	Status    string            `json:"status"`
	CreatedAt *EpochTime        `json:"createdAt,omitempty"`
	Tags      map[string]string `json:"tags,omitempty"`
	VPC       *struct {
		SubnetIDs []string `json:"subnetIds"`
	} `json:"resourcesVpcConfig,omitempty"`
}

type listClustersInput struct {
	MaxResults *int32   `json:"-" location:"querystring" locationName:"maxResults"`
	NextToken  string   `json:"-" location:"querystring" locationName:"nextToken"`
	Include    []string `json:"-" location:"querystring" locationName:"include"`
}

type describeClusterInput struct {
	Name string `json:"-" location:"uri" locationName:"name"`
}

type createClusterInput struct {
	eksCluster
	ClientRequestToken string `json:"clientRequestToken"`
}

type fakeEKS struct {
	mu       sync.Mutex
	clusters map[string]*eksCluster
	lastList *listClustersInput
}

func (f *fakeEKS) service() *Service {
	return &Service{
		SigningName: "eks", Protocol: RestJSON,
		Routes: []Route{
			{Method: "GET", Path: "/clusters", Operation: "ListClusters"},
			{Method: "POST", Path: "/clusters", Operation: "CreateCluster"},
			{Method: "GET", Path: "/clusters/{name}", Operation: "DescribeCluster"},
			{Method: "DELETE", Path: "/clusters/{name}", Operation: "DeleteCluster"},
		},
		Ops: map[string]Op{
			"ListClusters":    Handle(f.list),
			"CreateCluster":   Handle(f.create),
			"DescribeCluster": Handle(f.describe),
			"DeleteCluster":   Handle(f.delete),
		},
	}
}

func (f *fakeEKS) list(ctx context.Context, c *Call, in *listClustersInput) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastList = in
	names := []string{}
	for n := range f.clusters {
		names = append(names, n)
	}
	sort.Strings(names)
	return map[string]any{"clusters": names, "nextToken": "tok-" + in.NextToken}, nil
}

func (f *fakeEKS) create(ctx context.Context, c *Call, in *createClusterInput) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, dup := f.clusters[in.Name]; dup {
		return nil, Errorf(409, "ResourceInUseException", "Cluster already exists with name: %s", in.Name)
	}
	cl := in.eksCluster
	cl.Arn = "arn:aws:eks:" + c.Region + ":" + c.Account + ":cluster/" + in.Name
	cl.Status = "CREATING"
	cl.CreatedAt = Epoch(time.Date(2025, 5, 6, 7, 8, 9, 500e6, time.UTC))
	f.clusters[in.Name] = &cl
	return map[string]any{"cluster": cl}, nil
}

func (f *fakeEKS) describe(ctx context.Context, c *Call, in *describeClusterInput) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.PathParams["name"] != in.Name {
		return nil, errors.New("path params disagree")
	}
	cl, ok := f.clusters[in.Name]
	if !ok {
		return nil, Errorf(404, "ResourceNotFoundException", "No cluster found for name: %s.", in.Name)
	}
	return map[string]any{"cluster": cl}, nil
}

func (f *fakeEKS) delete(ctx context.Context, c *Call, in *describeClusterInput) (any, error) {
	panic("delete is broken")
}

func eksClient(url string) *eks.Client { return eksClientWith(url, "test", "test") }

func eksClientWith(url, ak, sk string) *eks.Client {
	return eks.New(eks.Options{
		Region:       "ap-south-1",
		BaseEndpoint: aws.String(url),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}, nil
		}),
		Retryer: aws.NopRetryer{},
	})
}

func TestRestEKSClient(t *testing.T) {
	f := &fakeEKS{clusters: map[string]*eksCluster{}}
	srv := httptest.NewServer(NewRouter(RouterConfig{Auth: NewSigV4(SigV4Config{Strict: true,
		Keys: map[string]Credential{DefaultAccessKeyID: {SecretKey: DefaultSecretKey}}})}, f.service()))
	defer srv.Close()
	client := eksClient(srv.URL)
	ctx := context.Background()

	created, err := client.CreateCluster(ctx, &eks.CreateClusterInput{
		Name: aws.String("demo"), Version: aws.String("1.31"), RoleArn: aws.String("arn:aws:iam::1:role/eks"),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{"subnet-1", "subnet-2"}},
		Tags:               map[string]string{"team": "core"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cl := created.Cluster
	if aws.ToString(cl.Arn) != "arn:aws:eks:ap-south-1:123456789012:cluster/demo" || cl.Status != ekstypes.ClusterStatusCreating ||
		!aws.ToTime(cl.CreatedAt).Equal(time.Date(2025, 5, 6, 7, 8, 9, 500e6, time.UTC)) ||
		!reflect.DeepEqual(cl.ResourcesVpcConfig.SubnetIds, []string{"subnet-1", "subnet-2"}) || cl.Tags["team"] != "core" {
		t.Fatalf("CreateCluster = %+v", cl)
	}

	// A name that needs escaping in the path (and SigV4's double encoding).
	if _, err := client.CreateCluster(ctx, &eks.CreateClusterInput{Name: aws.String("odd name:1"), RoleArn: aws.String("r"),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{}}); err != nil {
		t.Fatal(err)
	}
	d, err := client.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("odd name:1")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.Cluster.Name) != "odd name:1" {
		t.Fatalf("DescribeCluster = %+v", d.Cluster)
	}

	list, err := client.ListClusters(ctx, &eks.ListClustersInput{MaxResults: aws.Int32(7), NextToken: aws.String("abc"), Include: []string{"all", "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(list.Clusters, []string{"demo", "odd name:1"}) || aws.ToString(list.NextToken) != "tok-abc" {
		t.Fatalf("ListClusters = %+v", list)
	}
	if got := f.lastList; aws.ToInt32(got.MaxResults) != 7 || got.NextToken != "abc" || !reflect.DeepEqual(got.Include, []string{"all", "x"}) {
		t.Fatalf("server decoded %+v", got)
	}

	_, err = client.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("missing")})
	var nf *ekstypes.ResourceNotFoundException
	if !errors.As(err, &nf) || nf.ErrorMessage() != "No cluster found for name: missing." {
		t.Fatalf("err = %v, want ResourceNotFoundException", err)
	}
	wantAPIError(t, err, "ResourceNotFoundException", 404)

	_, err = client.CreateCluster(ctx, &eks.CreateClusterInput{Name: aws.String("demo"), RoleArn: aws.String("r"), ResourcesVpcConfig: &ekstypes.VpcConfigRequest{}})
	var inUse *ekstypes.ResourceInUseException
	if !errors.As(err, &inUse) {
		t.Fatalf("err = %v, want ResourceInUseException", err)
	}

	_, err = client.DeleteCluster(ctx, &eks.DeleteClusterInput{Name: aws.String("demo")})
	wantAPIError(t, err, "InternalFailure", 500)

	// Operations berth's fake does not route.
	_, err = client.ListNodegroups(ctx, &eks.ListNodegroupsInput{ClusterName: aws.String("demo")})
	wantAPIError(t, err, "UnknownOperationException", 404)

	// restJson1 services answer authentication failures with 403.
	bad := eksClientWith(srv.URL, "test", "nope")
	_, err = bad.ListClusters(ctx, &eks.ListClustersInput{})
	wantAPIError(t, err, "InvalidSignatureException", 403)
}

func TestRestBinding(t *testing.T) {
	type in struct {
		Name   string     `json:"-" location:"uri" locationName:"name"`
		Path   string     `json:"-" location:"uri" locationName:"rest"`
		Max    *int       `json:"-" location:"querystring" locationName:"max"`
		Flag   bool       `json:"-" location:"querystring" locationName:"flag"`
		Since  *time.Time `json:"-" location:"header" locationName:"X-Since"`
		Keys   []string   `json:"-" location:"header" locationName:"X-Keys"`
		Token  string     `json:"-" location:"header" locationName:"X-Token"`
		Body   string     `json:"body"`
		Nested struct {
			A int `json:"a"`
		} `json:"nested"`
	}
	var got *in
	svc := &Service{SigningName: "fake", Protocol: RestJSON,
		Routes: []Route{{Method: "PUT", Path: "/things/{name}/files/{rest...}", Operation: "Put", Status: 201},
			{Method: "DELETE", Path: "/things/{name}", Operation: "Del", Status: 204}},
		Ops: map[string]Op{
			"Put": Handle(func(ctx context.Context, c *Call, i *in) (any, error) {
				got = i
				return map[string]string{"ok": "yes"}, nil
			}),
			"Del": Handle(func(ctx context.Context, c *Call, i *in) (any, error) { return nil, nil }),
		}}
	rt := NewRouter(RouterConfig{}, svc)
	serve := func(method, target, body string, h map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/fake/aws4_request, SignedHeaders=host, Signature=00")
		req.Header.Set("X-Amz-Date", "20250101T000000Z")
		for k, v := range h {
			req.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, req)
		return w
	}
	w := serve("PUT", "/things/a%2Fb/files/x/y%20z?max=5&flag=true", `{"body":"hi","nested":{"a":2}}`,
		map[string]string{"X-Since": "Tue, 01 Apr 2025 10:00:00 GMT", "X-Keys": "a, b,c", "X-Token": "t"})
	if w.Code != 201 || w.Body.String() != `{"ok":"yes"}` || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("PUT: %d %s", w.Code, w.Body)
	}
	if got.Name != "a/b" || got.Path != "x/y z" || *got.Max != 5 || !got.Flag || !got.Since.Equal(time.Date(2025, 4, 1, 10, 0, 0, 0, time.UTC)) ||
		!reflect.DeepEqual(got.Keys, []string{"a", "b", "c"}) || got.Token != "t" || got.Body != "hi" || got.Nested.A != 2 {
		t.Fatalf("decoded %+v", got)
	}
	if w := serve("DELETE", "/things/x", "", nil); w.Code != 204 || w.Body.Len() != 0 {
		t.Fatalf("DELETE: %d %q", w.Code, w.Body)
	}
	for _, tc := range []struct {
		method, target, body string
		status               int
		code                 string
	}{
		{"PUT", "/things/a/files/b?max=many", "", 400, "SerializationException"},
		{"PUT", "/things/a/files/b", `{"body":1}`, 400, "SerializationException"},
		{"PUT", "/things/a/files/b", `{"body":`, 400, "SerializationException"},
		{"GET", "/things/a", "", 404, "UnknownOperationException"},
		{"PUT", "/nothing", "", 404, "UnknownOperationException"},
		{"PUT", "/things//a/files/b", "", 404, "UnknownOperationException"}, // ServeMux would redirect
	} {
		w := serve(tc.method, tc.target, tc.body, nil)
		if w.Code != tc.status || w.Header().Get("X-Amzn-Errortype") != tc.code || !strings.Contains(w.Body.String(), `"message":`) {
			t.Errorf("%s %s: %d %s %s", tc.method, tc.target, w.Code, w.Header().Get("X-Amzn-Errortype"), w.Body)
		}
	}
}

func TestRestMuxPanicsOnUnknownOperation(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("want a panic")
		}
	}()
	NewRouter(RouterConfig{}, &Service{SigningName: "x", Protocol: RestJSON, Routes: []Route{{Method: "GET", Path: "/", Operation: "Nope"}}})
}
