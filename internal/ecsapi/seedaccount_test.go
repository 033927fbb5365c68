package ecsapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/berth-dev/berth/internal/berthtest"
)

// seedTrust lets ECS tasks assume the seed's roles.
const seedTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// prepareSeedAccount sets up, through berth's own Secrets Manager, IAM and
// CloudWatch Logs APIs, what the tutorial's account has before it runs the
// seed: the execution and task roles, the awslogs group and the secret
// db-password. It puts the roles' and the secret's real ARNs into in, in
// place of the tutorial's placeholders (a task whose secret cannot be
// resolved stops, as on AWS). The SDK modules for these services are not
// in go.mod, so the calls are signed by hand.
func prepareSeedAccount(t *testing.T, srv *berthtest.Server, in *ecs.RegisterTaskDefinitionInput) {
	t.Helper()
	cfg := srv.AWSConfig("eu-west-1")
	for _, role := range []**string{&in.ExecutionRoleArn, &in.TaskRoleArn} {
		if *role == nil {
			continue
		}
		name := aws.ToString(*role)[strings.LastIndex(aws.ToString(*role), "/")+1:]
		out := signedCall(t, srv, cfg, "iam", "application/x-www-form-urlencoded", "", []byte(url.Values{
			"Action": {"CreateRole"}, "Version": {"2010-05-08"},
			"RoleName": {name}, "AssumeRolePolicyDocument": {seedTrust},
		}.Encode()))
		arn := between(string(out), "<Arn>", "</Arn>")
		if arn == "" {
			t.Fatalf("CreateRole %s: no ARN in %s", name, out)
		}
		*role = aws.String(arn)
	}
	for _, cd := range in.ContainerDefinitions {
		if lc := cd.LogConfiguration; lc != nil && lc.Options["awslogs-group"] != "" {
			body, _ := json.Marshal(map[string]string{"logGroupName": lc.Options["awslogs-group"]})
			signedCall(t, srv, cfg, "logs", "application/x-amz-json-1.1", "Logs_20140328.CreateLogGroup", body)
		}
		for i, s := range cd.Secrets {
			_, name, ok := strings.Cut(aws.ToString(s.ValueFrom), ":secret:")
			if !ok {
				continue
			}
			body, _ := json.Marshal(map[string]string{"Name": name, "SecretString": "seed-" + name})
			var out struct{ ARN string }
			if err := json.Unmarshal(signedCall(t, srv, cfg, "secretsmanager", "application/x-amz-json-1.1", "secretsmanager.CreateSecret", body), &out); err != nil || out.ARN == "" {
				t.Fatalf("CreateSecret %s: %v %+v", name, err, out)
			}
			cd.Secrets[i].ValueFrom = aws.String(out.ARN)
		}
	}
}

// signedCall POSTs body to srv as service, SigV4-signed with cfg's keys,
// and fails the test unless the answer is 200.
func signedCall(t *testing.T, srv *berthtest.Server, cfg aws.Config, service, contentType, target string, body []byte) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	region := cfg.Region
	if service == "iam" {
		region = "us-east-1"
	}
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hex.EncodeToString(sum[:]), service, region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := cfg.HTTPClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", service, target, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s %s: HTTP %d %s", service, target, body, resp.StatusCode, out)
	}
	return out
}

func between(s, open, close string) string {
	_, rest, ok := strings.Cut(s, open)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, close)
	return v
}
