package ecsapi_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// BenchmarkDescribeTaskDefinition measures one DescribeTaskDefinition
// through the SDK, HTTP and SigV4 verification, client and server in one
// process (bench/ecsapi compares against moto in separate processes).
func BenchmarkDescribeTaskDefinition(b *testing.B) {
	ctx := b.Context()
	srv := newBenchServer(b)
	c := ecs.NewFromConfig(srv.AWSConfig("eu-west-1"))
	if _, err := c.RegisterTaskDefinition(ctx, seedInputB(b)); err != nil {
		b.Fatal(err)
	}
	in := &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web-app:1")}
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.DescribeTaskDefinition(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
