package ecsapi_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestDescribeCapacityProviders(t *testing.T) {
	c, _ := newClient(t)
	ctx := t.Context()
	all, err := c.DescribeCapacityProviders(ctx, &ecs.DescribeCapacityProvidersInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, cp := range all.CapacityProviders {
		names = append(names, aws.ToString(cp.Name))
		if aws.ToString(cp.CapacityProviderArn) != "arn:aws:ecs:eu-west-1:123456789012:capacity-provider/"+aws.ToString(cp.Name) || cp.Status != types.CapacityProviderStatusActive || string(cp.Type) != aws.ToString(cp.Name) {
			t.Errorf("provider %+v", cp)
		}
	}
	if len(names) != 2 || names[0] != "FARGATE" || names[1] != "FARGATE_SPOT" {
		t.Fatalf("providers %v, want FARGATE and FARGATE_SPOT", names)
	}
	page, err := c.DescribeCapacityProviders(ctx, &ecs.DescribeCapacityProvidersInput{MaxResults: aws.Int32(1)})
	if err != nil || len(page.CapacityProviders) != 1 || page.NextToken == nil {
		t.Fatalf("first page: %+v %v", page, err)
	}
	page, err = c.DescribeCapacityProviders(ctx, &ecs.DescribeCapacityProvidersInput{MaxResults: aws.Int32(1), NextToken: page.NextToken})
	if err != nil || len(page.CapacityProviders) != 1 || aws.ToString(page.CapacityProviders[0].Name) != "FARGATE_SPOT" || page.NextToken != nil {
		t.Fatalf("second page: %+v %v", page, err)
	}
	some, err := c.DescribeCapacityProviders(ctx, &ecs.DescribeCapacityProvidersInput{
		CapacityProviders: []string{"arn:aws:ecs:eu-west-1:123456789012:capacity-provider/FARGATE_SPOT", "my-asg-provider"},
		Include:           []types.CapacityProviderField{types.CapacityProviderFieldTags},
	})
	if err != nil || len(some.CapacityProviders) != 1 || aws.ToString(some.CapacityProviders[0].Name) != "FARGATE_SPOT" {
		t.Fatalf("by name: %+v %v", some, err)
	}
	if len(some.Failures) != 1 || aws.ToString(some.Failures[0].Reason) != "MISSING" || aws.ToString(some.Failures[0].Arn) != "arn:aws:ecs:eu-west-1:123456789012:capacity-provider/my-asg-provider" {
		t.Errorf("failures %+v", some.Failures)
	}
	if _, err := c.DescribeCapacityProviders(ctx, &ecs.DescribeCapacityProvidersInput{MaxResults: aws.Int32(11)}); apiCode(err) != "InvalidParameterException" {
		t.Errorf("maxResults 11: %v", err)
	}
}
