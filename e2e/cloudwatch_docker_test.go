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
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// TestRealCPUShowsInCloudWatch runs a Fargate task (a real Docker
// container) that burns one CPU in a task of 1024 CPU units next to an
// idle one, with the metric time scaled by 60, and reads AWS/ECS
// CPUUtilization back: the burning service's average is high, the idle
// one's low, and MemoryUtilization is there.
func TestRealCPUShowsInCloudWatch(t *testing.T) {
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	dir := t.TempDir()
	// Every container the server created is removed at the end, after the
	// server stops (this cleanup is registered before startBerth's), also
	// those of tasks started while it shut down.
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
	cw := cloudwatchClient(p.URL)
	ctx := t.Context()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("metrics")}); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []struct{ name, cmd string }{
		{"burn", "while :; do :; done"},
		{"idle", "exec sleep 3600"},
	} {
		_, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String(svc.name), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("1024"), Memory: aws.String("2048"),
			RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
			ContainerDefinitions: []types.ContainerDefinition{{
				Name: aws.String("app"), Image: aws.String(image), StopTimeout: aws.Int32(1),
				Command: []string{"sh", "-c", svc.cmd},
			}},
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.CreateService(ctx, &ecs.CreateServiceInput{
			Cluster: aws.String("metrics"), ServiceName: aws.String(svc.name), TaskDefinition: aws.String(svc.name),
			DesiredCount: aws.Int32(1), LaunchType: types.LaunchTypeFargate,
			NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	start := time.Now()
	stat := func(service, metric string) (avg, n float64) {
		out, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
			Namespace: aws.String("AWS/ECS"), MetricName: aws.String(metric),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("ClusterName"), Value: aws.String("metrics")}, {Name: aws.String("ServiceName"), Value: aws.String(service)}},
			// A one-hour period is a minute of real time at scale 60.
			StartTime: aws.Time(start), EndTime: aws.Time(time.Now().Add(time.Second)), Period: aws.Int32(3600),
			Statistics: []cwtypes.Statistic{cwtypes.StatisticAverage, cwtypes.StatisticSampleCount},
		})
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for _, dp := range out.Datapoints {
			sum += aws.ToFloat64(dp.Average) * aws.ToFloat64(dp.SampleCount)
			n += aws.ToFloat64(dp.SampleCount)
		}
		if n == 0 {
			return 0, 0
		}
		return sum / n, n
	}
	var burn, idle float64
	eventually(t, 90*time.Second, func() (bool, string) {
		var nb, ni float64
		burn, nb = stat("burn", "CPUUtilization")
		idle, ni = stat("idle", "CPUUtilization")
		return nb >= 3 && ni >= 3, "burn samples " + strconv.FormatFloat(nb, 'f', -1, 64) + ", idle samples " + strconv.FormatFloat(ni, 'f', -1, 64)
	})
	t.Logf("CPUUtilization: burning service %.1f%%, idle service %.1f%%", burn, idle)
	// One busy-looping shell uses up to a whole vCPU (1024 units, 100%);
	// on a shared, loaded machine it gets far less (12.8% at load 23 on
	// two cores), so only a clear margin over the idle task is asserted.
	if burn < 5 || idle > 2 || burn < 10*(idle+0.1) {
		t.Fatalf("CPUUtilization: burning %.1f%%, idle %.1f%%; server log:\n%s", burn, idle, tail(p.log.String(), 40))
	}
	if mem, n := stat("idle", "MemoryUtilization"); n == 0 || mem <= 0 || mem > 50 {
		t.Fatalf("MemoryUtilization %.2f%% over %v samples", mem, n)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
