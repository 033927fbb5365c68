package ecsapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/berthtest"
	"github.com/berth-dev/berth/internal/driver/fake"
	becs "github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/server"
)

// startFake starts a server whose managed capacity uses the fake driver
// and whose agents time out after two seconds.
func startFake(t *testing.T) (*ecs.Client, *berthtest.Server) {
	t.Helper()
	srv := berthtest.Start(t, func(c *server.Config) {
		c.Driver = "fake"
		c.AgentDisconnectTimeout = "2s"
	})
	return ecs.NewFromConfig(srv.AWSConfig("eu-west-1")), srv
}

// networkConfiguration is the issue's --network-configuration.
func networkConfiguration() *types.NetworkConfiguration {
	return &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
		Subnets:        []string{"subnet-private-1a", "subnet-private-1b"},
		SecurityGroups: []string{"sg-ecs-tasks"},
		AssignPublicIp: types.AssignPublicIpDisabled,
	}}
}

func createCluster(t *testing.T, c *ecs.Client, name string) {
	t.Helper()
	if _, err := c.CreateCluster(t.Context(), &ecs.CreateClusterInput{ClusterName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
}

// waitTask polls DescribeTasks until ok holds.
func waitTask(t *testing.T, c *ecs.Client, cluster, arn string, what string, ok func(types.Task) bool) types.Task {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last types.Task
	for time.Now().Before(deadline) {
		out, err := c.DescribeTasks(t.Context(), &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{arn}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Tasks) == 1 {
			last = out.Tasks[0]
			if ok(last) {
				return last
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("task %s never became %s; last: status %s/%s health %s reason %q", arn, what, aws.ToString(last.LastStatus), aws.ToString(last.DesiredStatus), last.HealthStatus, aws.ToString(last.StoppedReason))
	return last
}

func status(s string) func(types.Task) bool {
	return func(t types.Task) bool { return aws.ToString(t.LastStatus) == s }
}

func TestRunTaskFargateLifecycle(t *testing.T) {
	c, srv := startFake(t)
	ctx := t.Context()
	createCluster(t, c, "prod-cluster")
	in := seedInput(t)
	prepareSeedAccount(t, srv, in)
	if _, err := c.RegisterTaskDefinition(ctx, in); err != nil {
		t.Fatal(err)
	}
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{
		Cluster: aws.String("prod-cluster"), TaskDefinition: aws.String("web-app"), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: networkConfiguration(),
		Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{
			Name: aws.String("web"), Command: []string{"sh", "-c", "httpd -f -p 8080"},
		}}},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Tasks) != 1 || len(run.Failures) != 0 {
		t.Fatalf("run: %d tasks, failures %+v", len(run.Tasks), run.Failures)
	}
	task := run.Tasks[0]
	arn := aws.ToString(task.TaskArn)
	if !strings.HasPrefix(arn, "arn:aws:ecs:eu-west-1:123456789012:task/prod-cluster/") {
		t.Fatalf("task ARN %s is not in the long format", arn)
	}
	if got := aws.ToString(task.LastStatus); got != "PROVISIONING" {
		t.Errorf("new task lastStatus %s, want PROVISIONING", got)
	}
	if aws.ToString(task.Group) != "family:web-app" || task.ContainerInstanceArn != nil || aws.ToString(task.PlatformVersion) != "1.4.0" {
		t.Errorf("group %q, instance %v, platform %q", aws.ToString(task.Group), task.ContainerInstanceArn, aws.ToString(task.PlatformVersion))
	}
	running := waitTask(t, c, "prod-cluster", arn, "RUNNING and HEALTHY", func(tk types.Task) bool {
		return aws.ToString(tk.LastStatus) == "RUNNING" && tk.HealthStatus == types.HealthStatusHealthy
	})
	if running.StartedAt == nil || running.PullStartedAt == nil || running.ConnectivityAt == nil {
		t.Errorf("timestamps missing: started %v pullStarted %v connectivity %v", running.StartedAt, running.PullStartedAt, running.ConnectivityAt)
	}
	ip := ""
	for _, a := range running.Attachments {
		for _, d := range a.Details {
			if aws.ToString(d.Name) == "privateIPv4Address" {
				ip = aws.ToString(d.Value)
			}
		}
		if aws.ToString(a.Status) != "ATTACHED" {
			t.Errorf("attachment status %s", aws.ToString(a.Status))
		}
	}
	if ip == "" || len(running.Containers) != 1 || len(running.Containers[0].NetworkInterfaces) != 1 ||
		aws.ToString(running.Containers[0].NetworkInterfaces[0].PrivateIpv4Address) != ip {
		t.Fatalf("ENI not reported: ip %q containers %+v", ip, running.Containers)
	}
	if aws.ToString(running.Containers[0].RuntimeId) == "" {
		t.Error("container runtimeId missing")
	}

	list, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod-cluster"), DesiredStatus: types.DesiredStatusRunning})
	if err != nil || !slices.Contains(list.TaskArns, arn) {
		t.Fatalf("ListTasks RUNNING: %v %v", list, err)
	}
	for _, in := range []*ecs.ListTasksInput{
		{Cluster: aws.String("prod-cluster"), Family: aws.String("web-app")},
		{Cluster: aws.String("prod-cluster"), LaunchType: types.LaunchTypeFargate},
	} {
		if l, err := c.ListTasks(ctx, in); err != nil || len(l.TaskArns) != 1 {
			t.Errorf("ListTasks %+v: %v %v", in, l, err)
		}
	}
	if l, _ := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod-cluster"), Family: aws.String("other")}); len(l.TaskArns) != 0 {
		t.Errorf("family filter: %v", l.TaskArns)
	}
	cl, err := c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"prod-cluster"}})
	if err != nil || cl.Clusters[0].RunningTasksCount != 1 || cl.Clusters[0].RegisteredContainerInstancesCount != 0 {
		t.Fatalf("cluster counts: %+v %v", cl.Clusters, err)
	}
	if _, err := c.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("prod-cluster")}); apiCode(err) != "ClusterContainsTasksException" {
		t.Errorf("DeleteCluster with a running task: %v", err)
	}
	if ci, _ := c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("prod-cluster")}); len(ci.ContainerInstanceArns) != 0 {
		t.Errorf("Fargate capacity is listed as container instances: %v", ci.ContainerInstanceArns)
	}
	tags, err := c.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" {
		t.Errorf("task tags: %+v %v", tags, err)
	}

	stop, err := c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("prod-cluster"), Task: aws.String(arn), Reason: aws.String("done testing")})
	if err != nil || aws.ToString(stop.Task.DesiredStatus) != "STOPPED" {
		t.Fatalf("StopTask: %+v %v", stop, err)
	}
	stopped := waitTask(t, c, "prod-cluster", arn, "STOPPED", status("STOPPED"))
	if stopped.StopCode != types.TaskStopCodeUserInitiated || aws.ToString(stopped.StoppedReason) != "done testing" {
		t.Errorf("stopped: code %s reason %q", stopped.StopCode, aws.ToString(stopped.StoppedReason))
	}
	if stopped.Containers[0].ExitCode == nil || stopped.StoppedAt == nil || stopped.ExecutionStoppedAt == nil {
		t.Errorf("stopped task lacks exit code or timestamps: %+v", stopped)
	}
	list, _ = c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod-cluster"), DesiredStatus: types.DesiredStatusStopped})
	if !slices.Contains(list.TaskArns, arn) {
		t.Errorf("ListTasks STOPPED: %v", list.TaskArns)
	}
	if _, err := c.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("prod-cluster")}); err != nil {
		t.Errorf("DeleteCluster after the task stopped: %v", err)
	}
}

func TestRunTaskValidation(t *testing.T) {
	c, _ := startFake(t)
	ctx := t.Context()
	createCluster(t, c, "v")
	if _, err := c.RegisterTaskDefinition(ctx, seedInput(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterTaskDefinition(ctx, bridgeDefinition("bridge")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   *ecs.RunTaskInput
		code string
		msg  string
	}{
		{"no cluster", &ecs.RunTaskInput{Cluster: aws.String("nope"), TaskDefinition: aws.String("web-app"), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: networkConfiguration()}, "ClusterNotFoundException", ""},
		{"no definition", &ecs.RunTaskInput{Cluster: aws.String("v"), TaskDefinition: aws.String("missing"), LaunchType: types.LaunchTypeFargate}, "ClientException", ""},
		{"launch type", &ecs.RunTaskInput{Cluster: aws.String("v"), TaskDefinition: aws.String("bridge"), LaunchType: types.LaunchTypeFargate}, "ClientException", "Task definition does not support launch_type FARGATE."},
		{"no instances", &ecs.RunTaskInput{Cluster: aws.String("v"), TaskDefinition: aws.String("bridge"), LaunchType: types.LaunchTypeEc2}, "InvalidParameterException", "No Container Instances were found in your cluster."},
		{"no network", &ecs.RunTaskInput{Cluster: aws.String("v"), TaskDefinition: aws.String("web-app"), LaunchType: types.LaunchTypeFargate}, "InvalidParameterException", "Network Configuration must be provided"},
		{"count", &ecs.RunTaskInput{Cluster: aws.String("v"), TaskDefinition: aws.String("web-app"), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: networkConfiguration(), Count: aws.Int32(11)}, "InvalidParameterException", ""},
		{"unknown container", &ecs.RunTaskInput{Cluster: aws.String("v"), TaskDefinition: aws.String("web-app"), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: networkConfiguration(),
			Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{Name: aws.String("nope")}}}}, "InvalidParameterException", "not a container"},
		{"capacity provider not associated", &ecs.RunTaskInput{Cluster: aws.String("v"), TaskDefinition: aws.String("web-app"), NetworkConfiguration: networkConfiguration(),
			CapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE"), Weight: 1}}}, "InvalidParameterException", "not associated"},
	} {
		_, err := c.RunTask(ctx, tc.in)
		if apiCode(err) != tc.code || (tc.msg != "" && !strings.Contains(err.Error(), tc.msg)) {
			t.Errorf("%s: got %v, want %s %q", tc.name, err, tc.code, tc.msg)
		}
	}
	// FARGATE through the cluster's capacity providers.
	if _, err := c.PutClusterCapacityProviders(ctx, &ecs.PutClusterCapacityProvidersInput{
		Cluster: aws.String("v"), CapacityProviders: []string{"FARGATE", "FARGATE_SPOT"},
		DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE_SPOT"), Weight: 1}},
	}); err != nil {
		t.Fatal(err)
	}
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("v"), TaskDefinition: aws.String("web-app"), NetworkConfiguration: networkConfiguration(), Count: aws.Int32(2)})
	if err != nil || len(run.Tasks) != 2 {
		t.Fatalf("run through the default strategy: %v %v", run, err)
	}
	if aws.ToString(run.Tasks[0].CapacityProviderName) != "FARGATE_SPOT" || run.Tasks[0].LaunchType != types.LaunchTypeFargate {
		t.Errorf("capacity provider %q launch type %s", aws.ToString(run.Tasks[0].CapacityProviderName), run.Tasks[0].LaunchType)
	}
	// DescribeTasks reports unknown tasks as MISSING.
	d, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("v"), Tasks: []string{aws.ToString(run.Tasks[0].TaskArn), "0123456789abcdef0123456789abcdef"}, Include: []types.TaskField{types.TaskFieldTags}})
	if err != nil || len(d.Tasks) != 1 || len(d.Failures) != 1 || aws.ToString(d.Failures[0].Reason) != "MISSING" {
		t.Fatalf("describe with a missing task: %+v %v", d, err)
	}
	// Pagination.
	p1, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("v"), MaxResults: aws.Int32(1)})
	if err != nil || len(p1.TaskArns) != 1 || p1.NextToken == nil {
		t.Fatalf("page 1: %+v %v", p1, err)
	}
	p2, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("v"), MaxResults: aws.Int32(1), NextToken: p1.NextToken})
	if err != nil || len(p2.TaskArns) != 1 || p2.TaskArns[0] == p1.TaskArns[0] {
		t.Fatalf("page 2: %+v %v", p2, err)
	}
}

func TestRunTaskClientToken(t *testing.T) {
	c, _ := startFake(t)
	ctx := t.Context()
	createCluster(t, c, "idem")
	if _, err := c.RegisterTaskDefinition(ctx, seedInput(t)); err != nil {
		t.Fatal(err)
	}
	in := &ecs.RunTaskInput{Cluster: aws.String("idem"), TaskDefinition: aws.String("web-app"), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: networkConfiguration(), Count: aws.Int32(2), ClientToken: aws.String("retry-me-1")}
	a, err := c.RunTask(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.RunTask(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Tasks) != 2 || len(b.Tasks) != 2 || aws.ToString(a.Tasks[0].TaskArn) != aws.ToString(b.Tasks[0].TaskArn) {
		t.Fatalf("retried RunTask started new tasks: %v vs %v", a.Tasks, b.Tasks)
	}
	l, _ := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("idem")})
	if len(l.TaskArns) != 2 {
		t.Errorf("%d tasks after a retried RunTask, want 2", len(l.TaskArns))
	}
}

// bridgeDefinition is an EC2 task definition: bridge networking, a
// dynamic host port and 256 MiB.
func bridgeDefinition(family string) *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), NetworkMode: types.NetworkModeBridge,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityEc2},
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("busybox:latest"), Memory: aws.Int32(256), Cpu: 128,
			Command:      []string{"sleep", "3600"},
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80), HostPort: aws.Int32(0)}},
		}},
	}
}

// startAgent runs an in-process agent with the fake driver until the test
// ends or stop is called.
func startAgent(t *testing.T, srv *berthtest.Server, cluster string, cpu, mem int, attrs ...string) (a *agent.Agent, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := agent.Config{
		ServerURL: srv.URL, Cluster: cluster, Region: "eu-west-1", Driver: fake.New(fake.Options{Logger: slog.New(slog.DiscardHandler)}),
		CPU: cpu, MemoryMiB: mem, DataDir: t.TempDir(), Heartbeat: 500 * time.Millisecond,
	}
	for _, s := range attrs {
		n, v, _ := strings.Cut(s, "=")
		cfg.Attributes = append(cfg.Attributes, becs.Attribute{Name: n, Value: v})
	}
	a = agent.New(cfg)
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Run(ctx) }()
	stop = func() {
		cancel()
		<-done
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(10 * time.Second)
	for !a.Connected() {
		if time.Now().After(deadline) {
			t.Fatal("agent did not connect")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return a, stop
}

// runResult describes a RunTask output: its tasks' instances and its
// failures' reasons.
func runResult(out *ecs.RunTaskOutput) string {
	if out == nil {
		return "no output"
	}
	var b strings.Builder
	for _, tk := range out.Tasks {
		fmt.Fprintf(&b, "task on %s; ", aws.ToString(tk.ContainerInstanceArn))
	}
	for _, f := range out.Failures {
		fmt.Fprintf(&b, "failure %s on %s; ", aws.ToString(f.Reason), aws.ToString(f.Arn))
	}
	return b.String()
}

func TestEC2AgentPlacementAndDisconnect(t *testing.T) {
	c, srv := startFake(t)
	ctx := t.Context()
	createCluster(t, c, "ec2")
	a, stopAgent := startAgent(t, srv, "ec2", 2048, 1024)
	arn := a.InstanceARN()
	di, err := c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("ec2"), ContainerInstances: []string{arn}, Include: []types.ContainerInstanceField{types.ContainerInstanceFieldTags, types.ContainerInstanceFieldContainerInstanceHealth}})
	if err != nil || len(di.ContainerInstances) != 1 {
		t.Fatalf("describe: %+v %v", di, err)
	}
	ci := di.ContainerInstances[0]
	if !ci.AgentConnected || aws.ToString(ci.Status) != "ACTIVE" || aws.ToString(ci.VersionInfo.AgentVersion) != agent.Version || ci.HealthStatus == nil {
		t.Fatalf("instance: connected %v status %s version %+v health %+v", ci.AgentConnected, aws.ToString(ci.Status), ci.VersionInfo, ci.HealthStatus)
	}
	if _, err := c.RegisterTaskDefinition(ctx, bridgeDefinition("ec2-web")); err != nil {
		t.Fatal(err)
	}
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("ec2"), TaskDefinition: aws.String("ec2-web"), LaunchType: types.LaunchTypeEc2, Count: aws.Int32(3)})
	if err != nil || len(run.Tasks) != 3 {
		t.Fatalf("run 3: %+v %v", run, err)
	}
	for _, tk := range run.Tasks {
		if aws.ToString(tk.ContainerInstanceArn) != arn || aws.ToString(tk.LastStatus) != "PENDING" {
			t.Errorf("task on %s in %s", aws.ToString(tk.ContainerInstanceArn), aws.ToString(tk.LastStatus))
		}
	}
	for _, tk := range run.Tasks {
		r := waitTask(t, c, "ec2", aws.ToString(tk.TaskArn), "RUNNING", status("RUNNING"))
		if len(r.Containers[0].NetworkBindings) != 1 || aws.ToInt32(r.Containers[0].NetworkBindings[0].HostPort) == 0 {
			t.Errorf("dynamic port not reported: %+v", r.Containers[0].NetworkBindings)
		}
	}
	// 1024 - 3×256 MiB remain: a fourth and fifth fit no more.
	big, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("ec2"), TaskDefinition: aws.String("ec2-web"), LaunchType: types.LaunchTypeEc2, Count: aws.Int32(2)})
	if err != nil || len(big.Tasks) != 1 || len(big.Failures) != 1 || aws.ToString(big.Failures[0].Reason) != "RESOURCE:MEMORY" || aws.ToString(big.Failures[0].Arn) != arn {
		t.Fatalf("over capacity: %s %v", runResult(big), err)
	}
	di, _ = c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("ec2"), ContainerInstances: []string{arn}})
	for _, r := range di.ContainerInstances[0].RemainingResources {
		if aws.ToString(r.Name) == "MEMORY" && r.IntegerValue != 0 {
			t.Errorf("remaining memory %d, want 0", r.IntegerValue)
		}
	}
	if n := di.ContainerInstances[0].RunningTasksCount + di.ContainerInstances[0].PendingTasksCount; n != 4 {
		t.Errorf("instance task counts add up to %d, want 4", n)
	}
	li, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("ec2"), ContainerInstance: aws.String(arn)})
	if err != nil || len(li.TaskArns) != 4 {
		t.Errorf("ListTasks by instance: %v %v", li, err)
	}
	// Stopping one gives its memory back.
	first := aws.ToString(run.Tasks[0].TaskArn)
	if _, err := c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("ec2"), Task: aws.String(first)}); err != nil {
		t.Fatal(err)
	}
	waitTask(t, c, "ec2", first, "STOPPED", status("STOPPED"))
	again, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("ec2"), TaskDefinition: aws.String("ec2-web"), LaunchType: types.LaunchTypeEc2})
	if err != nil || len(again.Tasks) != 1 {
		t.Fatalf("after a stop the memory is free again: %s %v", runResult(again), err)
	}

	// The agent goes away: the instance shows it, and after the timeout
	// its tasks are stopped.
	stopAgent()
	deadline := time.Now().Add(10 * time.Second)
	for {
		di, _ = c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("ec2"), ContainerInstances: []string{arn}})
		if !di.ContainerInstances[0].AgentConnected {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("agentConnected stayed true after the agent stopped")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("ec2"), TaskDefinition: aws.String("ec2-web"), LaunchType: types.LaunchTypeEc2}); err != nil || len(r.Failures) != 1 || aws.ToString(r.Failures[0].Reason) != "AGENT" {
		t.Errorf("placement on a disconnected instance: %s %v", runResult(r), err)
	}
	last := waitTask(t, c, "ec2", aws.ToString(again.Tasks[0].TaskArn), "STOPPED after the disconnect timeout", status("STOPPED"))
	if !strings.Contains(aws.ToString(last.StoppedReason), "agent disconnected") {
		t.Errorf("stopped reason %q", aws.ToString(last.StoppedReason))
	}
	// The controller stops the instance's tasks one by one, in no
	// particular order: the instance is idle once all of them are.
	for _, tk := range append(append(run.Tasks[1:], big.Tasks...), again.Tasks...) {
		waitTask(t, c, "ec2", aws.ToString(tk.TaskArn), "STOPPED after the disconnect timeout", status("STOPPED"))
	}
	if _, err := c.DeregisterContainerInstance(ctx, &ecs.DeregisterContainerInstanceInput{Cluster: aws.String("ec2"), ContainerInstance: aws.String(arn)}); err != nil {
		t.Fatalf("deregister an idle instance: %v", err)
	}
	if l, _ := c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("ec2")}); len(l.ContainerInstanceArns) != 0 {
		t.Errorf("deregistered instance still listed")
	}
}

func TestPlacementStrategiesAndConstraints(t *testing.T) {
	c, srv := startFake(t)
	ctx := t.Context()
	createCluster(t, c, "p")
	var arns []string
	for i, zone := range []string{"a", "b", "c"} {
		a, _ := startAgent(t, srv, "p", 4096, 4096, "zone="+zone, fmt.Sprintf("rank=%d", i))
		arns = append(arns, a.InstanceARN())
	}
	if _, err := c.RegisterTaskDefinition(ctx, bridgeDefinition("spread")); err != nil {
		t.Fatal(err)
	}
	count := func(tasks []types.Task) map[string]int {
		m := map[string]int{}
		for _, tk := range tasks {
			m[aws.ToString(tk.ContainerInstanceArn)]++
		}
		return m
	}
	r, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("p"), TaskDefinition: aws.String("spread"), Count: aws.Int32(6), LaunchType: types.LaunchTypeEc2,
		PlacementStrategy: []types.PlacementStrategy{{Type: types.PlacementStrategyTypeSpread, Field: aws.String("attribute:zone")}}})
	if err != nil || len(r.Tasks) != 6 {
		t.Fatalf("spread: %+v %v", r, err)
	}
	for _, arn := range arns {
		if n := count(r.Tasks)[arn]; n != 2 {
			t.Errorf("spread put %d tasks on %s, want 2", n, arn)
		}
	}
	r, err = c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("p"), TaskDefinition: aws.String("spread"), Count: aws.Int32(3), LaunchType: types.LaunchTypeEc2,
		Group:             aws.String("pack"),
		PlacementStrategy: []types.PlacementStrategy{{Type: types.PlacementStrategyTypeBinpack, Field: aws.String("memory")}}})
	if err != nil || len(r.Tasks) != 3 || len(count(r.Tasks)) != 1 {
		t.Fatalf("binpack spread its tasks: %v %v", count(r.Tasks), err)
	}
	r, err = c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("p"), TaskDefinition: aws.String("spread"), Count: aws.Int32(4), LaunchType: types.LaunchTypeEc2,
		Group:                aws.String("distinct"),
		PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeDistinctInstance}}})
	if err != nil || len(r.Tasks) != 3 || len(count(r.Tasks)) != 3 || len(r.Failures) == 0 {
		t.Fatalf("distinctInstance: %d tasks on %v, failures %+v, %v", len(r.Tasks), count(r.Tasks), r.Failures, err)
	}
	r, err = c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("p"), TaskDefinition: aws.String("spread"), Count: aws.Int32(2), LaunchType: types.LaunchTypeEc2,
		PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeMemberOf, Expression: aws.String("attribute:zone == b")}}})
	if err != nil || len(r.Tasks) != 2 || count(r.Tasks)[arns[1]] != 2 {
		t.Fatalf("memberOf: %v %v", count(r.Tasks), err)
	}

	// The cluster query language filters instances.
	l, err := c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("p"), Filter: aws.String("attribute:zone in [a, c]")})
	if err != nil || len(l.ContainerInstanceArns) != 2 {
		t.Fatalf("filter: %v %v", l, err)
	}
	// Attributes.
	if _, err := c.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: aws.String("p"), Attributes: []types.Attribute{{Name: aws.String("gpu"), Value: aws.String("none"), TargetId: aws.String(arns[0])}}}); err != nil {
		t.Fatal(err)
	}
	la, err := c.ListAttributes(ctx, &ecs.ListAttributesInput{Cluster: aws.String("p"), TargetType: types.TargetTypeContainerInstance, AttributeName: aws.String("gpu")})
	if err != nil || len(la.Attributes) != 1 || aws.ToString(la.Attributes[0].TargetId) != arns[0] {
		t.Fatalf("list attributes: %+v %v", la, err)
	}
	if _, err := c.DeleteAttributes(ctx, &ecs.DeleteAttributesInput{Cluster: aws.String("p"), Attributes: []types.Attribute{{Name: aws.String("gpu"), TargetId: aws.String(arns[0])}}}); err != nil {
		t.Fatal(err)
	}
	if la, _ = c.ListAttributes(ctx, &ecs.ListAttributesInput{Cluster: aws.String("p"), TargetType: types.TargetTypeContainerInstance, AttributeName: aws.String("gpu")}); len(la.Attributes) != 0 {
		t.Errorf("attribute not deleted: %+v", la.Attributes)
	}
	// A DRAINING instance takes no new tasks.
	if _, err := c.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String("p"), ContainerInstances: arns[:2], Status: types.ContainerInstanceStatusDraining}); err != nil {
		t.Fatal(err)
	}
	r, err = c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("p"), TaskDefinition: aws.String("spread"), Count: aws.Int32(3), LaunchType: types.LaunchTypeEc2})
	if err != nil || len(r.Tasks) != 3 || count(r.Tasks)[arns[2]] != 3 {
		t.Fatalf("draining instances got tasks: %v %v", count(r.Tasks), err)
	}
	if l, _ := c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("p"), Status: types.ContainerInstanceStatusDraining}); len(l.ContainerInstanceArns) != 2 {
		t.Errorf("draining instances listed: %v", l.ContainerInstanceArns)
	}
	// StartTask places on the instances the caller names.
	st, err := c.StartTask(ctx, &ecs.StartTaskInput{Cluster: aws.String("p"), TaskDefinition: aws.String("spread"), ContainerInstances: []string{arns[2], "0123456789abcdef0123456789abcdef"}})
	if err != nil || len(st.Tasks) != 1 || len(st.Failures) != 1 || aws.ToString(st.Failures[0].Reason) != "MISSING" {
		t.Fatalf("StartTask: %+v %v", st, err)
	}
	// Tags on container instances.
	if _, err := c.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(arns[2]), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	if tg, err := c.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arns[2])}); err != nil || len(tg.Tags) != 1 {
		t.Errorf("instance tags: %+v %v", tg, err)
	}
	// Deregistering an instance with tasks needs force.
	if _, err := c.DeregisterContainerInstance(ctx, &ecs.DeregisterContainerInstanceInput{Cluster: aws.String("p"), ContainerInstance: aws.String(arns[2])}); apiCode(err) != "InvalidParameterException" {
		t.Errorf("deregister with tasks: %v", err)
	}
	if _, err := c.DeregisterContainerInstance(ctx, &ecs.DeregisterContainerInstanceInput{Cluster: aws.String("p"), ContainerInstance: aws.String(arns[2]), Force: aws.Bool(true)}); err != nil {
		t.Errorf("deregister with force: %v", err)
	}
}

// TestFargateWithoutDocker: with the Docker daemon unreachable the server
// still starts, and Fargate tasks stop at once with a reason that says so.
func TestFargateWithoutDocker(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/berth-test-docker.sock")
	srv := berthtest.Start(t)
	c := ecs.NewFromConfig(srv.AWSConfig("eu-west-1"))
	ctx := t.Context()
	createCluster(t, c, "nodocker")
	if _, err := c.RegisterTaskDefinition(ctx, seedInput(t)); err != nil {
		t.Fatal(err)
	}
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("nodocker"), TaskDefinition: aws.String("web-app"),
		LaunchType: types.LaunchTypeFargate, NetworkConfiguration: networkConfiguration()})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %+v %v", run, err)
	}
	stopped := waitTask(t, c, "nodocker", aws.ToString(run.Tasks[0].TaskArn), "STOPPED", status("STOPPED"))
	if !strings.Contains(aws.ToString(stopped.StoppedReason), "container runtime is unavailable") || stopped.StopCode != types.TaskStopCodeTaskFailedToStart {
		t.Fatalf("stopped with %s %q", stopped.StopCode, aws.ToString(stopped.StoppedReason))
	}
}

// TestQueryFieldsInPlacement: the cluster query language sees in placement
// (RunTask's memberOf) what DescribeContainerInstances reports and what
// ListContainerInstances filters on, runningTasksCount included (placement
// used to see 0 running tasks everywhere).
func TestQueryFieldsInPlacement(t *testing.T) {
	c, srv := startFake(t)
	ctx := t.Context()
	createCluster(t, c, "q")
	a, _ := startAgent(t, srv, "q", 4096, 4096, "zone=a")
	b, _ := startAgent(t, srv, "q", 4096, 4096, "zone=b")
	busy, idle := a.InstanceARN(), b.InstanceARN()
	if _, err := c.RegisterTaskDefinition(ctx, bridgeDefinition("q")); err != nil {
		t.Fatal(err)
	}
	st, err := c.StartTask(ctx, &ecs.StartTaskInput{Cluster: aws.String("q"), TaskDefinition: aws.String("q"), ContainerInstances: []string{busy}})
	if err != nil || len(st.Tasks) != 1 {
		t.Fatalf("StartTask: %+v %v", st, err)
	}
	waitTask(t, c, "q", aws.ToString(st.Tasks[0].TaskArn), "RUNNING", status("RUNNING"))

	di, err := c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("q"), ContainerInstances: []string{busy, idle}})
	if err != nil || len(di.ContainerInstances) != 2 {
		t.Fatalf("describe: %+v %v", di, err)
	}
	described := map[string]types.ContainerInstance{}
	for _, ci := range di.ContainerInstances {
		described[aws.ToString(ci.ContainerInstanceArn)] = ci
	}
	if n, m := described[busy].RunningTasksCount, described[idle].RunningTasksCount; n != 1 || m != 0 {
		t.Fatalf("described runningTasksCount %d and %d, want 1 and 0", n, m)
	}
	list := func(expr string) []string {
		t.Helper()
		l, err := c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("q"), Filter: aws.String(expr)})
		if err != nil {
			t.Fatalf("ListContainerInstances %q: %v", expr, err)
		}
		return l.ContainerInstanceArns
	}
	run := func(expr string, count int32, group string, strategy types.PlacementStrategy) *ecs.RunTaskOutput {
		t.Helper()
		r, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("q"), TaskDefinition: aws.String("q"), Count: aws.Int32(count),
			LaunchType: types.LaunchTypeEc2, Group: aws.String(group), PlacementStrategy: []types.PlacementStrategy{strategy},
			PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeMemberOf, Expression: aws.String(expr)}}})
		if err != nil {
			t.Fatalf("RunTask memberOf(%s): %v", expr, err)
		}
		return r
	}
	on := func(r *ecs.RunTaskOutput) []string {
		var out []string
		for _, tk := range r.Tasks {
			if arn := aws.ToString(tk.ContainerInstanceArn); !slices.Contains(out, arn) {
				out = append(out, arn)
			}
		}
		slices.Sort(out)
		return out
	}
	if got := list("runningTasksCount > 0"); !slices.Equal(got, []string{busy}) {
		t.Errorf("filter runningTasksCount > 0: %v, want [%s]", got, busy)
	}
	if got := list("runningTasksCount == 0"); !slices.Equal(got, []string{idle}) {
		t.Errorf("filter runningTasksCount == 0: %v, want [%s]", got, idle)
	}
	// spread(instanceId) over a new group prefers no instance: the
	// constraint alone picks the busy one.
	spread := types.PlacementStrategy{Type: types.PlacementStrategyTypeSpread, Field: aws.String("instanceId")}
	if r := run("runningTasksCount > 0", 2, "busy-only", spread); len(r.Tasks) != 2 || !slices.Equal(on(r), []string{busy}) {
		t.Errorf("memberOf(runningTasksCount > 0): %s; want both tasks on %s", runResult(r), busy)
	}
	// binpack(memory) prefers the busy instance (less memory left): the
	// constraint must overrule it.
	binpack := types.PlacementStrategy{Type: types.PlacementStrategyTypeBinpack, Field: aws.String("memory")}
	if r := run("runningTasksCount == 0", 2, "idle-only", binpack); len(r.Tasks) != 2 || !slices.Equal(on(r), []string{idle}) {
		t.Errorf("memberOf(runningTasksCount == 0): %s; want both tasks on %s", runResult(r), idle)
	}

	// The other subjects (values that do not change here): placement
	// takes exactly the instances the filter lists.
	for _, expr := range []string{
		"ec2InstanceId == " + aws.ToString(described[busy].Ec2InstanceId),
		"ec2InstanceId != " + aws.ToString(described[busy].Ec2InstanceId),
		"agentConnected == true",
		"agentVersion >= " + aws.ToString(described[idle].VersionInfo.AgentVersion),
		"registeredAt >= 2000-01-01 and attribute:zone == b",
		"registeredAt < 2000-01-01",
		"attribute:zone in [a, c]",
		"task:group == idle-only",
	} {
		want := slices.Sorted(slices.Values(list(expr)))
		r := run(expr, 4, "g", spread)
		if got := on(r); !slices.Equal(got, want) {
			t.Errorf("memberOf(%s) placed on %v; the filter lists %v", expr, got, want)
		}
		if len(want) == 0 && (len(r.Tasks) != 0 || len(r.Failures) == 0) {
			t.Errorf("memberOf(%s) matches no instance: %s", expr, runResult(r))
		}
	}
}
