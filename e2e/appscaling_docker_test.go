package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// TestTargetTrackingOnRealCPU scales a service on Docker out on its real
// CPU: a Fargate task (256 CPU units) that busy-loops reports AWS/ECS
// CPUUtilization far above a target tracking policy's target of 3%, the
// policy's high alarm fires (metric time scaled by 60) and the service
// goes from 1 task to its maximum of 2, RUNNING, never past it; the
// activity names the alarm. The load is bounded: at most two busy loops
// for the test's length, stopped at its end.
func TestTargetTrackingOnRealCPU(t *testing.T) {
	requireAWSCLI(t)
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	dir := t.TempDir()
	t.Cleanup(func() {
		b, err := os.ReadFile(filepath.Join(dir, "berth-id"))
		if err != nil {
			return
		}
		cs, err := d.ListContainers(context.Background(), map[string]string{driver.LabelOwner: strings.TrimSpace(string(b))})
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, c := range cs {
			if arn := c.Labels[driver.LabelTaskARN]; arn != "" && !seen[arn] {
				seen[arn] = true
				cleanupTask(d, arn)
			}
		}
	})
	p := startBerth(t, dir, "--metric-time-scale", "60")
	c := ecsClient(p.URL)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod-cluster")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("burn"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(image), StopTimeout: aws.Int32(1),
			Command: []string{"sh", "-c", "while :; do :; done"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("prod-cluster"), ServiceName: aws.String("web-service"), TaskDefinition: aws.String("burn"),
		DesiredCount: aws.Int32(1), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	key := []string{"--service-namespace", "ecs", "--resource-id", "service/prod-cluster/web-service", "--scalable-dimension", "ecs:service:DesiredCount"}
	for _, args := range [][]string{
		append([]string{"application-autoscaling", "register-scalable-target"}, append(key, "--min-capacity", "1", "--max-capacity", "2")...),
		append([]string{"application-autoscaling", "put-scaling-policy"}, append(key, "--policy-name", "cpu-target-tracking",
			"--policy-type", "TargetTrackingScaling", "--target-tracking-scaling-policy-configuration",
			`{"TargetValue": 3.0, "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
			  "ScaleOutCooldown": 60, "ScaleInCooldown": 120, "DisableScaleIn": true}`)...),
	} {
		if _, err := p.aws(t, work, args...); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	maxSeen := int32(0)
	eventually(t, 150*time.Second, func() (bool, string) {
		out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod-cluster"), Services: []string{"web-service"}})
		if err != nil || len(out.Services) != 1 {
			return false, "describe-services failed"
		}
		s := out.Services[0]
		maxSeen = max(maxSeen, s.DesiredCount)
		return s.DesiredCount == 2 && s.RunningCount == 2, "desired " + itoa32(s.DesiredCount) + " running " + itoa32(s.RunningCount)
	})
	t.Logf("real CPU: scaled out to 2 RUNNING tasks %v after the policy was put (metric time scaled by 60)", time.Since(start))
	if maxSeen > 2 {
		t.Fatalf("desired count reached %d, above the maximum 2", maxSeen)
	}
	out, err := p.aws(t, work, "application-autoscaling", "describe-scaling-activities", "--service-namespace", "ecs",
		"--query", "ScalingActivities[-1].[Description,Cause]", "--output", "text")
	if err != nil || !strings.Contains(out, "Setting desired count to 2.") ||
		!strings.Contains(out, "monitor alarm TargetTracking-service/prod-cluster/web-service-AlarmHigh-") ||
		!strings.Contains(out, "in state ALARM triggered policy cpu-target-tracking") {
		t.Fatalf("activity: %q %v", out, err)
	}
}

func itoa32(n int32) string { return strconv.Itoa(int(n)) }
