package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// healthDefinition is a bridge task whose app waits for a HEALTHY db: a
// docker health check with its interval, timeout, retries and start
// period, docker labels, a memory reservation as the only limit.
func healthDefinition(family, image string, compat types.Compatibility) *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), NetworkMode: types.NetworkModeBridge,
		RequiresCompatibilities: []types.Compatibility{compat},
		ContainerDefinitions: []types.ContainerDefinition{
			{
				Name: aws.String("db"), Image: aws.String(image), MemoryReservation: aws.Int32(64), Essential: aws.Bool(true),
				Command:      []string{"sh", "-c", "sleep 3; touch /ready; exec sleep 3600"},
				DockerLabels: map[string]string{"com.example.role": "db"},
				HealthCheck: &types.HealthCheck{
					Command:  []string{"CMD-SHELL", "test -f /ready"},
					Interval: aws.Int32(5), Timeout: aws.Int32(3), Retries: aws.Int32(4), StartPeriod: aws.Int32(1),
				},
				StopTimeout: aws.Int32(2),
			},
			{
				Name: aws.String("app"), Image: aws.String(image), Memory: aws.Int32(128), MemoryReservation: aws.Int32(32), Essential: aws.Bool(true),
				Command:     []string{"sleep", "3600"},
				Environment: []types.KeyValuePair{{Name: aws.String("GREETING"), Value: aws.String("hello")}},
				DependsOn:   []types.ContainerDependency{{ContainerName: aws.String("db"), Condition: types.ContainerConditionHealthy}},
				StopTimeout: aws.Int32(2),
			},
		},
	}
}

// inspected is what docker inspect says of a container.
type inspected struct {
	Name   string
	Config struct {
		Labels      map[string]string
		Env         []string
		Healthcheck *struct {
			Test                                    []string
			Interval, Timeout, StartPeriod, Retries int64
		}
	}
	HostConfig struct {
		Memory, MemoryReservation int64
	}
	State struct {
		StartedAt time.Time
		Health    *struct {
			Log []struct {
				End      time.Time
				ExitCode int
			}
		}
	}
}

// inspectTaskContainers inspects the containers labelled with the task ARN
// (berth's and ECS's agents both set com.amazonaws.ecs.task-arn), by
// container name.
func inspectTaskContainers(t *testing.T, taskARN string) map[string]inspected {
	t.Helper()
	ids, err := exec.Command("docker", "ps", "-aq", "--filter", "label=com.amazonaws.ecs.task-arn="+taskARN).Output()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]inspected{}
	for id := range strings.FieldsSeq(string(ids)) {
		b, err := exec.Command("docker", "inspect", id).Output()
		if err != nil {
			t.Fatal(err)
		}
		var is []inspected
		if err := json.Unmarshal(b, &is); err != nil || len(is) != 1 {
			t.Fatalf("docker inspect %s: %v", id, err)
		}
		out[is[0].Config.Labels["com.amazonaws.ecs.container-name"]] = is[0]
	}
	return out
}

// checkHealthTask checks the containers of a healthDefinition task got
// exactly what the definition says, and the app started only once the db
// had passed a health check.
func checkHealthTask(t *testing.T, taskARN string) {
	t.Helper()
	cs := inspectTaskContainers(t, taskARN)
	db, app := cs["db"], cs["app"]
	hc := db.Config.Healthcheck
	if hc == nil || !slices.Equal(hc.Test, []string{"CMD-SHELL", "test -f /ready"}) || hc.Interval != int64(5*time.Second) ||
		hc.Timeout != int64(3*time.Second) || hc.Retries != 4 || hc.StartPeriod != int64(time.Second) {
		t.Errorf("db health check: %+v", hc)
	}
	if db.Config.Labels["com.example.role"] != "db" {
		t.Errorf("db labels: %v", db.Config.Labels)
	}
	if db.HostConfig.Memory != 0 || db.HostConfig.MemoryReservation != 64<<20 {
		t.Errorf("db memory %d reservation %d, want no limit and a 64 MiB reservation", db.HostConfig.Memory, db.HostConfig.MemoryReservation)
	}
	if app.HostConfig.Memory != 128<<20 || app.HostConfig.MemoryReservation != 32<<20 || !slices.Contains(app.Config.Env, "GREETING=hello") {
		t.Errorf("app memory %d reservation %d env %v", app.HostConfig.Memory, app.HostConfig.MemoryReservation, app.Config.Env)
	}
	var healthy time.Time
	if db.State.Health != nil {
		for _, l := range db.State.Health.Log {
			if l.ExitCode == 0 && (healthy.IsZero() || l.End.Before(healthy)) {
				healthy = l.End
			}
		}
	}
	if healthy.IsZero() || app.State.StartedAt.Before(healthy) {
		t.Errorf("app started at %v, db first healthy at %v: the HEALTHY dependency was not waited for", app.State.StartedAt, healthy)
	}
}

// waitHealthy waits until the task is RUNNING and HEALTHY.
func waitHealthy(t *testing.T, c *ecs.Client, cluster, arn string, logs func() string) types.Task {
	t.Helper()
	var tk types.Task
	eventually(t, 90*time.Second, func() (bool, string) {
		tk = describeTask(t, c, cluster, arn)
		status := fmt.Sprintf("task %s is %s/%s (%q); log:\n%s", arn, aws.ToString(tk.LastStatus), tk.HealthStatus, aws.ToString(tk.StoppedReason), logs())
		if aws.ToString(tk.LastStatus) == "STOPPED" {
			t.Fatal(status)
		}
		return aws.ToString(tk.LastStatus) == "RUNNING" && tk.HealthStatus == types.HealthStatusHealthy, status
	})
	return tk
}

func attributeNames(ci types.ContainerInstance) []string {
	var out []string
	for _, a := range ci.Attributes {
		out = append(out, aws.ToString(a.Name))
	}
	return out
}

// TestBerthAgentRunsTheACSDefinition: berth's own agent runs a task from
// the ACS message alone, exactly as defined, and advertises what it
// supports.
func TestBerthAgentRunsTheACSDefinition(t *testing.T) {
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	p := startBerth(t, t.TempDir())
	c := ecsClient(p.URL)
	ctx := t.Context()
	cluster := "acs-shape-" + strings.NewReplacer(":", "-", ".", "-").Replace(p.Addr)
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, p.URL, cluster, t.TempDir(), nil)
	logs := func() string { return "agent:\n" + a.log.String() + "\nserver:\n" + p.log.String() }
	ci := waitInstance(t, c, cluster, true, logs)
	if !strings.HasPrefix(aws.ToString(ci.Ec2InstanceId), "i-") || aws.ToString(ci.VersionInfo.AgentVersion) == "" {
		t.Errorf("instance %s version %+v", aws.ToString(ci.Ec2InstanceId), ci.VersionInfo)
	}
	// The Docker version, worded as the ECS agent words it.
	dv, err := d.ServerVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(ci.VersionInfo.DockerVersion), "DockerVersion: "+dv; got != want {
		t.Errorf("versionInfo.dockerVersion = %q, want %q", got, want)
	}
	names := attributeNames(ci)
	for _, want := range []string{"ecs.capability.container-health-check", "ecs.capability.container-ordering", "com.amazonaws.ecs.capability.docker-remote-api.1.24"} {
		if !slices.Contains(names, want) {
			t.Errorf("berth's agent does not advertise %s: %v", want, names)
		}
	}
	if slices.Contains(names, "ecs.capability.external") {
		t.Error("berth's agent claims to be an ECS Anywhere instance")
	}
	if _, err := c.RegisterTaskDefinition(ctx, healthDefinition("acs-shape", image, types.CompatibilityEc2)); err != nil {
		t.Fatal(err)
	}
	ext, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("acs-shape"), LaunchType: types.LaunchTypeExternal})
	if err != nil || len(ext.Tasks) != 0 || len(ext.Failures) != 1 || aws.ToString(ext.Failures[0].Reason) != "ATTRIBUTE" {
		t.Fatalf("an EXTERNAL task on an EC2 instance: %+v %v", ext, err)
	}
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("acs-shape"), LaunchType: types.LaunchTypeEc2})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %+v %v", run, err)
	}
	arn := aws.ToString(run.Tasks[0].TaskArn)
	t.Cleanup(func() { cleanupTask(d, arn) })
	waitHealthy(t, c, cluster, arn, logs)
	checkHealthTask(t, arn)
}

// TestStockECSAgentAnywhere runs the amazon-ecs-agent in ECS Anywhere mode
// against berth. It needs a locally built agent: BERTH_ECS_AGENT_BIN names
// the binary (build aws/amazon-ecs-agent's agent/ with -mod=vendor); it is
// skipped without one.
func TestStockECSAgentAnywhere(t *testing.T) {
	bin := os.Getenv("BERTH_ECS_AGENT_BIN")
	if bin == "" {
		t.Skip("SKIP: BERTH_ECS_AGENT_BIN does not name a built amazon-ecs-agent")
	}
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	p := startBerth(t, t.TempDir())
	c := ecsClient(p.URL)
	ctx := t.Context()
	cluster := "ecs-anywhere-" + strings.NewReplacer(":", "-", ".", "-").Replace(p.Addr)
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	agent := exec.Command(bin)
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "AWS_") && !strings.HasPrefix(e, "ECS_") {
			env = append(env, e)
		}
	}
	agent.Env = append(env,
		"ECS_EXTERNAL=true", "ECS_BACKEND_HOST="+p.URL, "ECS_CLUSTER="+cluster, "AWS_REGION=eu-west-1", "AWS_DEFAULT_REGION=eu-west-1",
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "ECS_DATADIR="+dataDir, "ECS_HOST_DATA_DIR="+dataDir,
		"ECS_LOGFILE="+dataDir+"/agent.log", "ECS_LOGLEVEL=info", "ECS_IMAGE_PULL_BEHAVIOR=prefer-cached", "ECS_UPDATES_ENABLED=false",
		"ECS_DISABLE_IMAGE_CLEANUP=true", "ECS_ENABLE_TASK_IAM_ROLE=false", `ECS_AVAILABLE_LOGGING_DRIVERS=["json-file"]`,
		"ECS_ENABLE_CONTAINER_METADATA=false",
	)
	log := &syncBuffer{}
	agent.Stdout, agent.Stderr = log, log
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = agent.Process.Kill()
		_ = agent.Wait()
		if ids, err := exec.Command("docker", "ps", "-aq", "--filter", "label=com.amazonaws.ecs.cluster="+cluster).Output(); err == nil && len(ids) > 0 {
			_ = exec.Command("docker", append([]string{"rm", "-f"}, strings.Fields(string(ids))...)...).Run()
		}
	})
	logs := func() string { return fmt.Sprintf("agent:\n%s\nserver:\n%s", log.String(), p.log.String()) }
	ci := waitInstance(t, c, cluster, true, logs)
	if id := aws.ToString(ci.Ec2InstanceId); !strings.HasPrefix(id, "mi-") || len(id) != 20 {
		t.Errorf("ECS Anywhere instance ID %q, want mi- and 17 hex digits", id)
	}
	// The versions come with the ACS session, recorded once it is accepted.
	eventually(t, 10*time.Second, func() (bool, string) {
		v := ci.VersionInfo
		if v != nil && aws.ToString(v.AgentVersion) != "" && aws.ToString(v.AgentHash) != "" && strings.HasPrefix(aws.ToString(v.DockerVersion), "DockerVersion: ") {
			return true, ""
		}
		ci = waitInstance(t, c, cluster, true, logs)
		return false, fmt.Sprintf("versionInfo %+v", v)
	})
	names := attributeNames(ci)
	for _, invented := range []string{"ecs.capability.task-eni", "com.amazonaws.ecs.capability.task-iam-role"} {
		if slices.Contains(names, invented) {
			t.Errorf("the instance has %s, which the agent did not advertise", invented)
		}
	}
	if _, err := c.RegisterTaskDefinition(ctx, healthDefinition("anywhere", image, types.CompatibilityExternal)); err != nil {
		t.Fatal(err)
	}
	onEC2, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("anywhere"), LaunchType: types.LaunchTypeEc2})
	if err != nil || len(onEC2.Tasks) != 0 {
		t.Fatalf("an EC2 task on an ECS Anywhere instance: %+v %v", onEC2, err)
	}
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("anywhere"), LaunchType: types.LaunchTypeExternal})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask EXTERNAL: %+v %v", run, err)
	}
	arn := aws.ToString(run.Tasks[0].TaskArn)
	tk := waitHealthy(t, c, cluster, arn, logs)
	for _, ct := range tk.Containers {
		if aws.ToString(ct.Name) == "db" && ct.HealthStatus != types.HealthStatusHealthy {
			t.Errorf("db health %s", ct.HealthStatus)
		}
	}
	checkHealthTask(t, arn)

	// The db turns unhealthy: the agent publishes it on telemetry, and
	// DescribeTasks shows it.
	db := ""
	for _, ct := range tk.Containers {
		if aws.ToString(ct.Name) == "db" {
			db = aws.ToString(ct.RuntimeId)
		}
	}
	if out, err := exec.Command("docker", "exec", db, "rm", "/ready").CombinedOutput(); err != nil {
		t.Fatalf("docker exec: %v %s", err, out)
	}
	eventually(t, 90*time.Second, func() (bool, string) {
		tk := describeTask(t, c, cluster, arn)
		return tk.HealthStatus == types.HealthStatusUnhealthy,
			fmt.Sprintf("the task stayed %s/%s after its db failed its health check; log:\n%s", aws.ToString(tk.LastStatus), tk.HealthStatus, logs())
	})
}
