package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// targetPrefix is the X-Amz-Target prefix of the ECS API.
const targetPrefix = "AmazonEC2ContainerServiceV20141113"

// emptyPayloadHash is the SHA-256 of an empty body.
const emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// APIError is an error answer of the ECS API.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// apiClient calls the ECS API (awsJson1.1, SigV4-signed) the way the ECS
// agent does.
type apiClient struct {
	endpoint string
	region   string
	creds    aws.Credentials
	http     *http.Client
	signer   *v4.Signer
}

func newAPIClient(endpoint, region string, creds aws.Credentials) *apiClient {
	return &apiClient{
		endpoint: strings.TrimSuffix(endpoint, "/"), region: region, creds: creds,
		http: &http.Client{Timeout: 30 * time.Second}, signer: v4.NewSigner(),
	}
}

// call invokes an ECS operation.
func (c *apiClient) call(ctx context.Context, op string, in, out any) error {
	return c.callService(ctx, "ecs", targetPrefix, op, in, out)
}

// callService invokes an operation of an awsJson1.1 service (signing name
// service, X-Amz-Target prefix target).
func (c *apiClient) callService(ctx context.Context, service, target, op string, in, out any) error {
	return c.callServiceIn(ctx, c.region, service, target, op, in, out)
}

// callServiceIn is callService signed for another region.
func (c *apiClient) callServiceIn(ctx context.Context, region, service, target, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target+"."+op)
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), service, region, time.Now()); err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type     string `json:"__type"`
			Message  string `json:"message"`
			MessageC string `json:"Message"` // Secrets Manager's spelling
		}
		_ = json.Unmarshal(b, &e)
		if e.Message == "" {
			e.Message = e.MessageC
		}
		if e.Type == "" {
			e.Type = resp.Header.Get("X-Amzn-Errortype")
		}
		if i := strings.LastIndexByte(e.Type, '#'); i >= 0 {
			e.Type = e.Type[i+1:]
		}
		return &APIError{Status: resp.StatusCode, Code: e.Type, Message: e.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s: decoding the answer: %w", op, err)
	}
	return nil
}

// sign signs a request without a body (the ACS websocket upgrade).
func (c *apiClient) sign(r *http.Request) error {
	return c.signer.SignHTTP(r.Context(), c.creds, r, emptyPayloadHash, "ecs", c.region, time.Now())
}
