package server_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/berth-dev/berth/internal/berthtest"
	"github.com/berth-dev/berth/internal/server"
)

// TestStrictAuthOnlyConfiguredKeys checks that --strict-auth knows only the
// operator's keys: the public test/test pair is refused, a configured key
// works, and Fargate tasks still run (the managed agents sign with keys of
// their own).
func TestStrictAuthOnlyConfiguredKeys(t *testing.T) {
	creds := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(creds, []byte("[ops]\naws_access_key_id = AKIAOPERATOR\naws_secret_access_key = operator-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := berthtest.Start(t, func(c *server.Config) {
		c.StrictAuth, c.CredentialsFile, c.Driver = true, creds, "fake"
	})
	ctx := t.Context()
	public := ecs.NewFromConfig(srv.AWSConfig("eu-west-1"))
	_, err := public.ListClusters(ctx, &ecs.ListClustersInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "UnrecognizedClientException" {
		t.Fatalf("test/test in strict mode: got %v, want UnrecognizedClientException", err)
	}

	cfg := srv.AWSConfig("eu-west-1")
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIAOPERATOR", "operator-secret", "")
	c := ecs.NewFromConfig(cfg)
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("strict-auth")}); err != nil {
		t.Fatalf("configured key in strict mode: %v", err)
	}
	if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("strict"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions:    []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("busybox")}},
	}); err != nil {
		t.Fatal(err)
	}
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{
		Cluster: aws.String("strict-auth"), TaskDefinition: aws.String("strict"), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}},
	})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %v %+v", err, run)
	}
	arn := aws.ToString(run.Tasks[0].TaskArn)
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		out, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("strict-auth"), Tasks: []string{arn}})
		if err != nil {
			t.Fatal(err)
		}
		if last = aws.ToString(out.Tasks[0].LastStatus); last == "RUNNING" {
			return
		}
	}
	t.Fatalf("Fargate task under strict auth never ran: last status %s", last)
}
