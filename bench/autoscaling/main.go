// Command autoscaling measures target tracking's reaction time on real
// CPU: from the AWS/ECS CPUUtilization metric crossing a policy's target
// to the new task RUNNING, with metric periods shortened by
// --metric-time-scale, as a ratio to the time the policy's high alarm
// needs by AWS's rule (3 periods of 3 datapoints above the target).
//
// berth runs as a server (Docker driver) with --metric-time-scale -scale.
// Each round creates a Fargate service of one busybox task (256 CPU units)
// that idles for -idle, then busy-loops; a scalable target of range [1,
// 2] and a target tracking policy on ECSServiceAverageCPUUtilization
// (target -target percent, DisableScaleIn). The crossing is the end of
// the first one-minute (scaled) period whose average is above the target,
// read back with GetMetricStatistics; the reaction ends when the service
// has 2 RUNNING tasks (DescribeServices every -poll). The round then
// deletes the service (force), which stops both busy loops.
//
//	go run ./bench/autoscaling [-n 3] [-scale 30] [-target 25] [-berth ./berth]
//
// It prints each round, the median reaction and its ratio to the alarm's
// three periods, and the load average before and after. Docker must be
// running; traffic goes to loopback only; every loop is bounded by count
// and time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/bench/harness"
)

const image = "berth-test/busybox:latest"

func main() {
	n := flag.Int("n", 3, "rounds")
	scale := flag.Float64("scale", 30, "berth's --metric-time-scale (a one-minute period lasts 60/scale seconds)")
	target := flag.Float64("target", 25, "the policy's target CPU percent")
	idle := flag.Duration("idle", 3*time.Second, "how long each task idles before its busy loop")
	poll := flag.Duration("poll", 100*time.Millisecond, "DescribeServices and GetMetricStatistics polling interval")
	bin := flag.String("berth", "", "berth binary to run (default: go build ./cmd/berth)")
	maxTime := flag.Duration("max-time", 10*time.Minute, "upper bound on the whole run")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *maxTime)
	defer cancel()
	if err := run(ctx, *n, *scale, *target, *idle, *poll, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "autoscaling:", err)
		os.Exit(1)
	}
}

type clients struct {
	ecs *ecs.Client
	cw  *cloudwatch.Client
	aas *aas.Client
}

func run(ctx context.Context, n int, scale, target float64, idle, poll time.Duration, bin string) error {
	tmp, err := os.MkdirTemp("", "berth-autoscaling")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if bin == "" {
		bin = filepath.Join(tmp, "bin", "berth")
		if err := harness.BuildBerth(ctx, bin); err != nil {
			return err
		}
	}
	d, err := harness.Docker(ctx, image)
	if err != nil {
		return err
	}
	defer d.Close()
	addr := harness.FreeAddr()
	url := "http://" + addr
	dataDir := filepath.Join(tmp, "server")
	var serverLog strings.Builder
	srv := exec.Command(bin, "server", "--listen", addr, "--data-dir", dataDir, "--log-level", "warn",
		"--metric-time-scale", fmt.Sprint(scale))
	srv.Stdout, srv.Stderr = &serverLog, &serverLog
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() {
		harness.StopProcess(srv)
		if id, err := os.ReadFile(filepath.Join(dataDir, "berth-id")); err == nil {
			cctx, cc := context.WithTimeout(context.Background(), time.Minute)
			harness.RemoveByLabel(cctx, d.Client(), "berth.owner="+strings.TrimSpace(string(id)))
			cc()
		}
	}()
	if err := harness.WaitUp(ctx, url); err != nil {
		return fmt.Errorf("%w\n%s", err, serverLog.String())
	}
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(url), RetryMaxAttempts: 1}
	c := clients{ecs: ecs.NewFromConfig(cfg), cw: cloudwatch.NewFromConfig(cfg), aas: aas.NewFromConfig(cfg)}
	if _, err := c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("bench")}); err != nil {
		return err
	}
	_, err = c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("burn"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(image), StopTimeout: aws.Int32(1),
			Command: []string{"sh", "-c", fmt.Sprintf("sleep %.1f; while :; do :; done", idle.Seconds())}}},
	})
	if err != nil {
		return err
	}
	period := time.Duration(float64(time.Minute) / scale)
	alarmNeeds := 3 * period
	load0 := loadavg()
	var reactions []time.Duration
	for i := range n {
		r, err := round(ctx, c, fmt.Sprintf("svc-%d", i), target, period, poll)
		if err != nil {
			return fmt.Errorf("round %d: %w\nserver log:\n%s", i, err, serverLog.String())
		}
		fmt.Printf("round %d: crossing → 2 RUNNING %v (%.2f× the alarm's 3 periods of %v)\n", i, r.Round(time.Millisecond),
			float64(r)/float64(alarmNeeds), period)
		reactions = append(reactions, r)
	}
	slices.Sort(reactions)
	med := reactions[len(reactions)/2]
	fmt.Printf("reaction (metric above %.0f%% → new task RUNNING), %d rounds, metric time scale %v: median %v = %.2f× the high alarm's 3 periods (%v); min %v, max %v\n",
		target, n, scale, med.Round(time.Millisecond), float64(med)/float64(alarmNeeds), alarmNeeds,
		reactions[0].Round(time.Millisecond), reactions[len(reactions)-1].Round(time.Millisecond))
	fmt.Printf("load average: before %s, after %s (2 cores)\n", load0, loadavg())
	return nil
}

// round creates a service, its scalable target and policy, waits for the
// scale-out and returns the time from the crossing to the new task
// RUNNING; it deletes the service before it returns.
func round(ctx context.Context, c clients, name string, target float64, period, poll time.Duration) (time.Duration, error) {
	_, err := c.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("bench"), ServiceName: aws.String(name), TaskDefinition: aws.String("burn"),
		DesiredCount: aws.Int32(1), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
	})
	if err != nil {
		return 0, err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = c.ecs.DeleteService(dctx, &ecs.DeleteServiceInput{Cluster: aws.String("bench"), Service: aws.String(name), Force: aws.Bool(true)})
		_ = waitFor(dctx, poll, func() (bool, error) {
			out, err := c.ecs.ListTasks(dctx, &ecs.ListTasksInput{Cluster: aws.String("bench"), ServiceName: aws.String(name)})
			return err == nil && len(out.TaskArns) == 0, nil
		})
	}()
	rid := "service/bench/" + name
	if _, err := c.aas.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: aws.String(rid), ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(2)}); err != nil {
		return 0, err
	}
	if _, err := c.aas.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: aws.String(rid), ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		PolicyName: aws.String("cpu"), PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(target),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeECSServiceAverageCPUUtilization},
			ScaleOutCooldown:              aws.Int32(60), DisableScaleIn: aws.Bool(true)}}); err != nil {
		return 0, err
	}
	var running time.Time
	err = waitFor(ctx, poll, func() (bool, error) {
		out, err := c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("bench"), Services: []string{name}})
		if err != nil || len(out.Services) != 1 {
			return false, err
		}
		if out.Services[0].RunningCount >= 2 {
			running = time.Now()
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return 0, fmt.Errorf("no scale-out: %w", err)
	}
	out, err := c.cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/ECS"), MetricName: aws.String("CPUUtilization"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("ClusterName"), Value: aws.String("bench")}, {Name: aws.String("ServiceName"), Value: aws.String(name)}},
		StartTime:  aws.Time(running.Add(-30 * time.Minute)), EndTime: aws.Time(running.Add(time.Minute)), Period: aws.Int32(60),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticAverage}})
	if err != nil {
		return 0, err
	}
	var crossed time.Time
	for _, dp := range out.Datapoints {
		if t := aws.ToTime(dp.Timestamp); aws.ToFloat64(dp.Average) > target && (crossed.IsZero() || t.Before(crossed)) {
			crossed = t
		}
	}
	if crossed.IsZero() {
		return 0, errors.New("no CPUUtilization datapoint above the target")
	}
	// The crossing is known once its period is complete.
	return running.Sub(crossed.Add(period)), nil
}

// waitFor polls cond every poll until it is done or ctx ends.
func waitFor(ctx context.Context, poll time.Duration, cond func() (bool, error)) error {
	for {
		done, err := cond()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(poll):
		}
	}
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
