// Command exec measures ECS Exec through berth against `docker exec` of
// the same container in the same run: the latency of a whole `berth exec
// --command true` (ExecuteCommand, the data channel, the agent's exec, the
// exit code) against `docker exec CONTAINER true`, and the output
// throughput of `head -c SIZE /dev/zero` through each.
//
// berth is the real thing: the berth binary (built from ./cmd/berth) runs
// as a server with the Docker driver; a Fargate task of berth's busybox
// test image runs on its managed capacity with enableExecuteCommand. The
// cases run interleaved, -n times each; every loop is bounded in count and
// time, and all traffic is on loopback.
//
//	go run ./bench/exec
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/bench/harness"
	"github.com/berth-dev/berth/bench/stats"
	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/sdkhttp"
)

const image = "berth-test/busybox:latest"

func main() {
	n := flag.Int("n", 20, "runs per case")
	mb := flag.Int("mb", 64, "MiB of output in the throughput case")
	maxTime := flag.Duration("max-time", 10*time.Minute, "upper bound on the whole run")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *maxTime)
	defer cancel()
	if err := run(ctx, *n, *mb); err != nil {
		fmt.Fprintln(os.Stderr, "exec bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, n, mb int) error {
	tmp, err := os.MkdirTemp("", "berth-execbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "berth")
	if err := harness.BuildBerth(ctx, bin); err != nil {
		return err
	}
	d, err := harness.Docker(ctx, image)
	if err != nil {
		return err
	}
	defer d.Close()
	addr := harness.FreeAddr()
	url := "http://" + addr
	var srvLog bytes.Buffer
	srv := exec.Command(bin, "server", "--listen", addr, "--data-dir", filepath.Join(tmp, "data"), "--log-level", "warn")
	srv.Stdout, srv.Stderr = &srvLog, &srvLog
	if err := srv.Start(); err != nil {
		return err
	}
	cluster := fmt.Sprintf("execbench-%d", time.Now().UnixNano()%1_000_000)
	defer func() {
		harness.StopProcess(srv)
		rctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		harness.RemoveByLabel(rctx, d.Client(), driver.LabelCluster+"="+cluster)
	}()
	if err := harness.WaitUp(ctx, url); err != nil {
		return fmt.Errorf("server: %w\n%s", err, srvLog.String())
	}
	c := ecs.NewFromConfig(aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(url), RetryMaxAttempts: 1, HTTPClient: sdkhttp.Client(30 * time.Second),
	})
	ctrID, taskARN, err := startTask(ctx, c, cluster)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, srvLog.String())
	}
	env := append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	berthExec := func(command string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, "exec", "--server", url, "--region", "us-east-1", "--cluster", cluster,
			"--task", taskARN, "--command", command)
		cmd.Env = env
		return cmd
	}
	dockerExec := func(command ...string) *exec.Cmd {
		return exec.CommandContext(ctx, "docker", append([]string{"exec", ctrID}, command...)...)
	}
	size := int64(mb) << 20
	zero := fmt.Sprintf("head -c %d /dev/zero", size)
	var lat [2][]time.Duration
	var thr [2][]float64 // MiB/s
	for i := 0; i < n; i++ {
		for k, cmd := range []*exec.Cmd{berthExec("true"), dockerExec("true")} {
			d, _, err := timed(cmd)
			if err != nil {
				return fmt.Errorf("%s: %w", cmd.Args, err)
			}
			lat[k] = append(lat[k], d)
		}
		for k, cmd := range []*exec.Cmd{berthExec(zero), dockerExec("head", "-c", fmt.Sprint(size), "/dev/zero")} {
			d, got, err := timed(cmd)
			if err != nil {
				return fmt.Errorf("%s: %w", cmd.Args, err)
			}
			if got != size {
				return fmt.Errorf("%s: %d bytes of output, want %d", cmd.Args, got, size)
			}
			thr[k] = append(thr[k], float64(size)/(1<<20)/d.Seconds())
		}
	}
	fmt.Printf("ECS Exec, %d runs per case, load average %s, %d CPUs\n", n, stats.LoadAvg(), numCPU())
	fmt.Printf("%-34s %10s %10s\n", "latency of `true` (whole CLI run)", "p50 ms", "p99 ms")
	names := []string{"berth exec", "docker exec"}
	for k := range lat {
		fmt.Printf("%-34s %10.1f %10.1f\n", names[k], stats.Ms(stats.Percentile(lat[k], 50)), stats.Ms(stats.Percentile(lat[k], 99)))
	}
	fmt.Printf("ratio berth/docker (p50)            %10.2f\n", stats.Ms(stats.Percentile(lat[0], 50))/stats.Ms(stats.Percentile(lat[1], 50)))
	fmt.Printf("%-34s %10s\n", fmt.Sprintf("output throughput (%d MiB)", mb), "MiB/s p50")
	for k := range thr {
		fmt.Printf("%-34s %10.1f\n", names[k], stats.Median(thr[k]))
	}
	fmt.Printf("ratio berth/docker                  %10.2f\n", stats.Median(thr[0])/stats.Median(thr[1]))
	return nil
}

// startTask runs a Fargate task with enableExecuteCommand and returns its
// container's ID and the task's ARN once it runs.
func startTask(ctx context.Context, c *ecs.Client, cluster string) (string, string, error) {
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		return "", "", err
	}
	if _, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(cluster), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(image), Essential: aws.Bool(true),
			Command: []string{"sleep", "600"}, StopTimeout: aws.Int32(2),
		}},
	}); err != nil {
		return "", "", err
	}
	out, err := c.RunTask(ctx, &ecs.RunTaskInput{
		Cluster: aws.String(cluster), TaskDefinition: aws.String(cluster), LaunchType: types.LaunchTypeFargate,
		EnableExecuteCommand: true,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
	})
	if err != nil {
		return "", "", err
	}
	if len(out.Tasks) != 1 {
		return "", "", fmt.Errorf("RunTask: %+v", out.Failures)
	}
	arn := aws.ToString(out.Tasks[0].TaskArn)
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		dt, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}})
		if err == nil && len(dt.Tasks) == 1 && aws.ToString(dt.Tasks[0].LastStatus) == "RUNNING" {
			return aws.ToString(dt.Tasks[0].Containers[0].RuntimeId), arn, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "", "", errors.New("the task did not reach RUNNING within 90s")
}

// timed runs cmd, counting its stdout bytes.
func timed(cmd *exec.Cmd) (time.Duration, int64, error) {
	var cw countWriter
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &cw, &errb
	t0 := time.Now()
	err := cmd.Run()
	if err != nil {
		return 0, 0, fmt.Errorf("%v: %s", err, errb.String())
	}
	return time.Since(t0), cw.n, nil
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(b []byte) (int, error) { w.n += int64(len(b)); return len(b), nil }

var _ io.Writer = (*countWriter)(nil)

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "\nprocessor") + 1
}
