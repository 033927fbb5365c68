package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/sdkhttp"
)

// signedPost sends body to berth signed with the local test/test key for
// service, and returns the status and body of the answer.
func signedPost(t *testing.T, base, service, contentType string, header map[string]string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(t.Context(), aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, req,
		hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// TestTaskCredentialsOnlyToTheHostingInstance: an agent gets a task's role
// and execution role credentials only for a task its container instance
// hosts; naming another instance of the cluster answers
// AccessDeniedException, naming none a ClientException.
func TestTaskCredentialsOnlyToTheHostingInstance(t *testing.T) {
	cfg := Defaults()
	cfg.Listen, cfg.DataDir, cfg.Driver = "127.0.0.1:0", t.TempDir(), "fake"
	srv, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()
	base := "http://" + srv.Addr()

	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	form := url.Values{"Action": {"CreateRole"}, "Version": {"2010-05-08"}, "RoleName": {"app"}, "AssumeRolePolicyDocument": {trust}}
	status, out := signedPost(t, base, "iam", "application/x-www-form-urlencoded", nil, []byte(form.Encode()))
	m := regexp.MustCompile(`<Arn>([^<]+)</Arn>`).FindSubmatch(out)
	if status != 200 || m == nil {
		t.Fatalf("CreateRole: %d %s", status, out)
	}
	role := string(m[1])

	c := ecs.NewFromConfig(aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(base), HTTPClient: sdkhttp.Client(time.Minute), RetryMaxAttempts: 1,
	})
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("creds")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("creds"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		TaskRoleArn:             aws.String(role), ExecutionRoleArn: aws.String(role),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("busybox"), Command: []string{"sleep", "infinity"}}},
	}); err != nil {
		t.Fatal(err)
	}
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("creds"), TaskDefinition: aws.String("creds"), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %v %+v", err, run)
	}
	task := aws.ToString(run.Tasks[0].TaskArn)
	// A Fargate task runs on its cluster's managed instance (its ARN is
	// not on the wire, as on AWS): the one the server's managed agent
	// runs as.
	var host string
	for deadline := time.Now().Add(30 * time.Second); host == ""; {
		srv.runtime.fleet.mu.Lock()
		for _, a := range srv.runtime.fleet.agents {
			if a.cluster == "creds" {
				host = a.instanceARN
			}
		}
		srv.runtime.fleet.mu.Unlock()
		if host == "" {
			if time.Now().After(deadline) {
				t.Fatal("no managed agent for the cluster within 30s")
			}
			time.Sleep(50 * time.Millisecond) // poll interval of a deadline loop
		}
	}
	// Another instance of the same cluster, registered as an EC2 host's
	// agent would.
	reg, err := c.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("creds"),
		TotalResources: []types.Resource{{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 1024},
			{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: 2048}}})
	if err != nil {
		t.Fatal(err)
	}
	other := aws.ToString(reg.ContainerInstance.ContainerInstanceArn)

	call := func(op, instance string) (int, map[string]string) {
		in := map[string]string{"taskArn": task}
		if instance != "" {
			in["containerInstanceArn"] = instance
		}
		b, _ := json.Marshal(in)
		status, out := signedPost(t, base, "berthagent", "application/x-amz-json-1.1",
			map[string]string{"X-Amz-Target": AgentTargetPrefix + "." + op}, b)
		var m map[string]string
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("%s: %d %s", op, status, out)
		}
		return status, m
	}
	for _, op := range []string{"GetTaskRoleCredentials", "GetExecutionRoleCredentials"} {
		if status, m := call(op, host); status != 200 || m["RoleArn"] != role || !strings.HasPrefix(m["AccessKeyId"], "ASIA") || m["Token"] == "" {
			t.Errorf("%s from the hosting instance: %d %v", op, status, m)
		}
		status, m := call(op, other)
		if status != 400 || m["__type"] != "AccessDeniedException" || !strings.Contains(m["message"], "does not host task") || m["AccessKeyId"] != "" {
			t.Errorf("%s from another instance: %d %v", op, status, m)
		}
		if status, m := call(op, ""); status != 400 || m["__type"] != "ClientException" || m["AccessKeyId"] != "" {
			t.Errorf("%s naming no instance: %d %v", op, status, m)
		}
	}

	// The server's side of the credentials endpoint: GetTaskRoleCredentials
	// latency (a measurement, not a check).
	const n = 200
	lat := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if status, m := call("GetTaskRoleCredentials", host); status != 200 {
			t.Fatalf("GetTaskRoleCredentials: %d %v", status, m)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	t.Logf("GetTaskRoleCredentials over %d calls: p50 %v p99 %v", n, lat[n/2], lat[n*99/100])
}
