package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
)

// cluster is one ACTIVE cluster and a client of its API server that
// authenticates as `kubectl` does after `aws eks update-kubeconfig`.
type cluster struct {
	name, endpoint    string
	creds             aws.Credentials
	http              *http.Client
	toActive, toNodes time.Duration

	mu      sync.Mutex
	token   string
	tokenAt time.Time
}

// create creates a cluster and times it to ACTIVE and to the first
// successful list of nodes.
func create(ctx context.Context, c *eks.Client, creds aws.Credentials, name string) (*cluster, error) {
	start := time.Now()
	_, err := c.CreateCluster(ctx, &eks.CreateClusterInput{Name: aws.String(name), Version: aws.String("1.29"),
		RoleArn:            aws.String("arn:aws:iam::123456789012:role/eks-cluster-role"),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{"subnet-a", "subnet-b"}}})
	if err != nil {
		return nil, err
	}
	var desc *ekstypes.Cluster
	err = poll(ctx, 3*time.Minute, 20*time.Millisecond, func() (bool, error) {
		out, err := c.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
		if err != nil {
			return false, err
		}
		desc = out.Cluster
		if desc.Status == ekstypes.ClusterStatusFailed {
			return false, fmt.Errorf("FAILED: %+v", desc.Health)
		}
		return desc.Status == ekstypes.ClusterStatusActive, nil
	})
	if err != nil {
		return nil, err
	}
	cl := &cluster{name: name, endpoint: aws.ToString(desc.Endpoint), creds: creds, toActive: time.Since(start)}
	ca, err := base64.StdEncoding.DecodeString(aws.ToString(desc.CertificateAuthority.Data))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("certificateAuthority.data is not a PEM certificate")
	}
	cl.http = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: 16}}
	var last string
	err = poll(ctx, time.Minute, 20*time.Millisecond, func() (bool, error) {
		code, body, err := cl.do(ctx, http.MethodGet, "/api/v1/nodes", nil)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		last = fmt.Sprintf("%d %s", code, body)
		return code == http.StatusOK, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w (last: %s)", err, last)
	}
	cl.toNodes = time.Since(start)
	return cl, nil
}

// bearer returns an `aws eks get-token` token: a presigned STS
// GetCallerIdentity URL that signs the cluster name in x-k8s-aws-id,
// base64url after "k8s-aws-v1.". It is made anew every 30 s (the CLI's
// tokens live 15 minutes; the API server caches a review for 5 s).
func (c *cluster) bearer(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && time.Since(c.tokenAt) < 30*time.Second {
		return c.token, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		"https://sts."+region+".amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("x-k8s-aws-id", c.name)
	empty := sha256.Sum256(nil)
	u, _, err := v4.NewSigner().PresignHTTP(ctx, c.creds, req, hex.EncodeToString(empty[:]), "sts", region, time.Now())
	if err != nil {
		return "", err
	}
	c.token, c.tokenAt = "k8s-aws-v1."+base64.RawURLEncoding.EncodeToString([]byte(u)), time.Now()
	return c.token, nil
}

// do sends one request to the API server and reads the whole answer.
func (c *cluster) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	tok, err := c.bearer(ctx)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// fill creates n ConfigMaps in namespace default, 8 at a time.
func (c *cluster) fill(ctx context.Context, n int) error {
	work := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range work {
				body := fmt.Appendf(nil, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-%05d"},"data":{"key":"value-%d","mode":"bench"}}`, i, i)
				code, out, err := c.do(ctx, http.MethodPost, "/api/v1/namespaces/default/configmaps", body)
				if err == nil && code != http.StatusCreated {
					err = fmt.Errorf("create cm-%05d: %d %s", i, code, out)
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for i := range n {
		if len(errs) > 0 {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// list lists the ConfigMaps of namespace default and checks their count.
func (c *cluster) list(ctx context.Context, want int) (time.Duration, error) {
	start := time.Now()
	code, body, err := c.do(ctx, http.MethodGet, "/api/v1/namespaces/default/configmaps", nil)
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	if code != http.StatusOK {
		return 0, fmt.Errorf("%s: list: %d %s", c.name, code, body)
	}
	var l struct {
		Items []struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &l); err != nil {
		return 0, err
	}
	// namespace default also holds kube-root-ca.crt once the controller
	// manager has published it.
	n := 0
	for _, it := range l.Items {
		if strings.HasPrefix(it.Metadata.Name, "cm-") {
			n++
		}
	}
	if n != want {
		return 0, fmt.Errorf("%s: listed %d of the bench's ConfigMaps, want %d", c.name, n, want)
	}
	return d, nil
}

// interleavedLists lists a's and b's ConfigMaps n times each, A then B,
// after one unmeasured list of each.
func interleavedLists(ctx context.Context, a, b *cluster, n, want int) (la, lb []time.Duration, err error) {
	for i := -1; i < n; i++ {
		da, err := a.list(ctx, want)
		if err != nil {
			return nil, nil, err
		}
		db, err := b.list(ctx, want)
		if err != nil {
			return nil, nil, err
		}
		if i >= 0 {
			la, lb = append(la, da), append(lb, db)
		}
	}
	return la, lb, nil
}

// poll calls f every interval until it is done, fails, or timeout passes.
func poll(ctx context.Context, timeout, interval time.Duration, f func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		done, err := f()
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}
