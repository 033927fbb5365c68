package sdkhttp

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// race forces, step by step, the interleaving CI hit by chance: the server
// answers once it has the whole request; the client's connection holds
// the request-body write open until the SDK is reading the response body
// (so Do has returned and smithy-go has closed the request body); the
// server sends the rest of its answer only once net/http has finished
// writing the request, or has closed the connection.
type race struct {
	marker          []byte
	readingBody     chan struct{} // the SDK reads the response body
	wrote, closed   chan struct{} // the request write ended well; the client closed the connection
	onceR, onceW, c sync.Once
}

func newRace() *race {
	return &race{marker: []byte("first-half-end"), readingBody: make(chan struct{}), wrote: make(chan struct{}), closed: make(chan struct{})}
}

func (r *race) handler(w http.ResponseWriter, req *http.Request) {
	if _, err := io.ReadAll(req.Body); err != nil {
		return
	}
	first := `{"failures":[{"arn":"` + string(r.marker) + `","reason":"MISSING"}],"tasks":[`
	rest := `]}`
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", strconv.Itoa(len(first)+len(rest)))
	_, _ = io.WriteString(w, first)
	w.(http.Flusher).Flush()
	select {
	case <-r.wrote:
	case <-r.closed:
	case <-time.After(10 * time.Second):
	}
	_, _ = io.WriteString(w, rest)
}

// dial returns connections that hold the request body's write until the
// SDK reads the response body.
func (r *race) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &raceConn{Conn: c, r: r}, nil
}

type raceConn struct {
	net.Conn
	r         *race
	mu        sync.Mutex
	sawMarker bool
}

func (c *raceConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if bytes.Contains(p, []byte(`"cluster":"race"`)) && !bytes.HasPrefix(p, []byte("POST ")) {
		select {
		case <-c.r.readingBody:
		case <-time.After(5 * time.Second):
		}
	}
	return n, err
}

func (c *raceConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if c.sawMarker {
		c.r.onceR.Do(func() { close(c.r.readingBody) })
	}
	c.mu.Unlock()
	n, err := c.Conn.Read(p)
	if bytes.Contains(p[:n], c.r.marker) {
		c.mu.Lock()
		c.sawMarker = true
		c.mu.Unlock()
	}
	return n, err
}

func (c *raceConn) Close() error {
	err := c.Conn.Close()
	c.r.c.Do(func() { close(c.r.closed) })
	return err
}

// describe makes one DescribeTasks call through the SDK, with the HTTP
// transport wrap gives it, against a server that runs the race.
func describe(t *testing.T, wrap func(http.RoundTripper) http.RoundTripper) error {
	r := newRace()
	srv := httptest.NewServer(http.HandlerFunc(r.handler))
	defer srv.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = r.dial
	defer tr.CloseIdleConnections()
	c := ecs.NewFromConfig(aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		HTTPClient: &http.Client{Timeout: 20 * time.Second, Transport: wrap(tr)},
	})
	ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			r.onceW.Do(func() { close(r.wrote) })
		}
	}})
	out, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("race"), Tasks: []string{"t1"}})
	if err == nil && (len(out.Failures) != 1 || aws.ToString(out.Failures[0].Arn) != string(r.marker)) {
		t.Fatalf("DescribeTasks answered %+v", out)
	}
	return err
}

// TestClosedBodyDoesNotCloseTheConnection: through the plain transport the
// race makes the SDK call fail with "use of closed network connection"
// although the server answered in full (the bug this package works
// around); through Transport it succeeds.
func TestClosedBodyDoesNotCloseTheConnection(t *testing.T) {
	plain := describe(t, func(rt http.RoundTripper) http.RoundTripper { return rt })
	if plain == nil || !strings.Contains(plain.Error(), "use of closed network connection") {
		t.Errorf("without the work-around: %v; want the SDK's \"use of closed network connection\" "+
			"(if the SDK no longer fails here, its bug is fixed and package sdkhttp can go)", plain)
	}
	t.Logf("without the work-around: %v", plain)
	if err := describe(t, Transport); err != nil {
		t.Errorf("with Transport: %v", err)
	}
}
