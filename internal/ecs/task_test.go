package ecs

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/fault"
)

var (
	testScope = Scope{Account: "123456789012", Region: "us-east-1"}
	testNow   = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
)

func intp(v int) *int    { return &v }
func boolp(v bool) *bool { return &v }

// prepared registers td as revision 1 and fails the test if it is invalid.
func prepared(t *testing.T, td *TaskDefinition) *TaskDefinition {
	t.Helper()
	if err := PrepareTaskDefinition(td); err != nil {
		t.Fatalf("PrepareTaskDefinition: %v", err)
	}
	NewRevision(testScope, td, 1, "", testNow)
	return td
}

func bridgeTD(t *testing.T) *TaskDefinition {
	return prepared(t, &TaskDefinition{
		Family: "web",
		ContainerDefinitions: []ContainerDefinition{
			{
				Name: "app", Image: "nginx", CPU: 256, Memory: intp(512),
				PortMappings: []PortMapping{{ContainerPort: intp(80), HostPort: intp(8080)}, {ContainerPort: intp(81)}},
				HealthCheck:  &HealthCheck{Command: []string{"CMD", "true"}},
				Environment:  []KeyValuePair{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}},
			},
			{Name: "sidecar", Image: "busybox", CPU: 128, MemoryReservation: intp(64), Essential: boolp(false)},
		},
	})
}

func fargateTD(t *testing.T) *TaskDefinition {
	return prepared(t, &TaskDefinition{
		Family: "api", NetworkMode: NetworkAwsvpc, RequiresCompatibilities: []string{LaunchFargate},
		CPU: "512", Memory: "1024",
		ContainerDefinitions: []ContainerDefinition{{Name: "api", Image: "api:1", PortMappings: []PortMapping{{ContainerPort: intp(8080)}}}},
	})
}

func testCluster() *Cluster { return NewCluster(testScope, "prod", testNow) }

func seqIDs() func() string {
	n := 0
	return func() string { n++; return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }
}

func fargateReq() RunRequest {
	return RunRequest{LaunchType: LaunchFargate, NetworkConfiguration: &NetworkConfiguration{
		AwsvpcConfiguration: &AwsVpcConfiguration{Subnets: []string{"subnet-1", "subnet-2"}},
	}}
}

func TestNewTaskEC2Bridge(t *testing.T) {
	td := bridgeTD(t)
	task, err := NewTask(testScope, testCluster(), td, RunRequest{StartedBy: "me", NewID: seqIDs()}, "abc123", testNow)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"arn", task.ARN, "arn:aws:ecs:us-east-1:123456789012:task/prod/abc123"},
		{"id", task.ID, "abc123"},
		{"cluster", task.ClusterARN, "arn:aws:ecs:us-east-1:123456789012:cluster/prod"},
		{"taskdef", task.TaskDefinitionARN, "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"},
		{"launchType", task.LaunchType, LaunchEC2},
		{"group", task.Group, "family:web"},
		{"startedBy", task.StartedBy, "me"},
		{"lastStatus", task.LastStatus, TaskPending},
		{"desiredStatus", task.DesiredStatus, TaskRunning},
		{"health", task.HealthStatus, HealthUnknown},
		{"cpu", task.CPU, "384"},
		{"memory", task.Memory, "576"},
		{"platformVersion", task.PlatformVersion, ""},
		{"container0 arn", task.Containers[0].ContainerARN, "arn:aws:ecs:us-east-1:123456789012:container/prod/abc123/00000000-0000-4000-8000-000000000001"},
		{"container1 arn", task.Containers[1].ContainerARN, "arn:aws:ecs:us-east-1:123456789012:container/prod/abc123/00000000-0000-4000-8000-000000000002"},
		{"container0 status", task.Containers[0].LastStatus, ContainerPending},
		{"container0 memory", task.Containers[0].Memory, "512"},
		{"container1 reservation", task.Containers[1].MemoryReservation, "64"},
		{"container1 cpu", task.Containers[1].CPU, "128"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if task.Version != 1 || !task.CreatedAt.Equal(testNow) || len(task.Attachments) != 0 {
		t.Errorf("version %d createdAt %v attachments %v", task.Version, task.CreatedAt, task.Attachments)
	}
	if !task.Containers[0].Essential || task.Containers[1].Essential || !task.Containers[0].HealthCheck || task.Containers[1].HealthCheck {
		t.Errorf("essential/healthCheck flags wrong: %+v", task.Containers)
	}
	if task.Containers[0].TaskARN != task.ARN {
		t.Errorf("container taskArn = %q", task.Containers[0].TaskARN)
	}
}

func TestNewTaskFargate(t *testing.T) {
	td := fargateTD(t)
	req := fargateReq()
	req.Group = "service:api"
	task, err := NewTask(testScope, testCluster(), td, req, "t1", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if task.LastStatus != TaskProvisioning || task.PlatformVersion != "1.4.0" || task.PlatformFamily != "Linux" || task.Group != "service:api" {
		t.Errorf("task = %+v", task)
	}
	if task.CPU != "512" || task.Memory != "1024" {
		t.Errorf("size = %s/%s", task.CPU, task.Memory)
	}
	if len(task.Attachments) != 1 || task.Attachments[0].Type != AttachmentENI || task.Attachments[0].Detail("subnetId") != "subnet-1" || task.Attachments[0].Status != AttachmentPrecreated {
		t.Errorf("attachments = %+v", task.Attachments)
	}
	// Without NewID, IDs are derived from the task ID: stable and distinct.
	again, _ := NewTask(testScope, testCluster(), td, req, "t1", testNow)
	if again.Containers[0].ContainerARN != task.Containers[0].ContainerARN || again.Attachments[0].ID != task.Attachments[0].ID {
		t.Error("derived IDs are not stable")
	}
	if task.Attachments[0].ID == TaskIDFromARN(task.Containers[0].ContainerARN) {
		t.Error("derived IDs are not distinct")
	}
	other, _ := NewTask(testScope, testCluster(), td, req, "t2", testNow)
	if other.Attachments[0].ID == task.Attachments[0].ID {
		t.Error("derived IDs collide across tasks")
	}

	// Through the FARGATE_SPOT capacity provider.
	req.LaunchType, req.CapacityProviderName = "", CapacityFargateSpot
	spot, err := NewTask(testScope, testCluster(), td, req, "t3", testNow)
	if err != nil || spot.LaunchType != LaunchFargate || spot.CapacityProviderName != CapacityFargateSpot {
		t.Errorf("spot task = %+v, %v", spot, err)
	}
}

func TestNewTaskValidation(t *testing.T) {
	bridge := bridgeTD(t)
	fargate := fargateTD(t)
	ec2Only := prepared(t, &TaskDefinition{Family: "x", NetworkMode: NetworkAwsvpc,
		ContainerDefinitions: []ContainerDefinition{{Name: "a", Image: "a", Memory: intp(128)}}})
	awsvpc := fargateReq()
	awsvpc.LaunchType = ""
	with := func(f func(*RunRequest)) RunRequest { r := fargateReq(); f(&r); return r }
	cases := []struct {
		name string
		td   *TaskDefinition
		req  RunRequest
		kind fault.Kind
		msg  string
	}{
		{"fargate unsupported", bridge, RunRequest{LaunchType: LaunchFargate}, fault.InvalidParameter, "Task definition does not support launch_type FARGATE."},
		{"fargate unsupported for small awsvpc", ec2Only, with(func(r *RunRequest) {}), fault.InvalidParameter, "Task definition does not support launch_type FARGATE."},
		{"unknown launch type", bridge, RunRequest{LaunchType: "MARS"}, fault.InvalidParameter, "Invalid launch type"},
		{"awsvpc without network configuration", fargate, RunRequest{LaunchType: LaunchFargate}, fault.InvalidParameter, "Network Configuration must be provided when networkMode 'awsvpc' is specified."},
		{"awsvpc without subnets", fargate, with(func(r *RunRequest) { r.NetworkConfiguration.AwsvpcConfiguration.Subnets = nil }), fault.InvalidParameter, "subnets can not be empty."},
		{"network configuration on bridge", bridge, RunRequest{NetworkConfiguration: awsvpc.NetworkConfiguration}, fault.InvalidParameter, "Network Configuration is not valid"},
		{"bad assignPublicIp", fargate, with(func(r *RunRequest) { r.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIP = "YES" }), fault.InvalidParameter, "assignPublicIp"},
		{"count 11", bridge, RunRequest{Count: 11}, fault.InvalidParameter, "Count must be between 1 and 10."},
		{"count -1", bridge, RunRequest{Count: -1}, fault.InvalidParameter, "Count must be between 1 and 10."},
		{"launch type and capacity provider", fargate, with(func(r *RunRequest) { r.CapacityProviderName = CapacityFargate }), fault.InvalidParameter, "Specifying both a launchType and capacityProviderStrategy"},
		{"platform version on EC2", bridge, RunRequest{PlatformVersion: "1.4.0"}, fault.InvalidParameter, "The platform version must be null when specifying an EC2 launch type."},
		{"unknown platform version", fargate, with(func(r *RunRequest) { r.PlatformVersion = "9.9.9" }), fault.InvalidParameter, "platform version (9.9.9) does not exist"},
		{"unknown container override", bridge, RunRequest{Overrides: &TaskOverride{ContainerOverrides: []ContainerOverride{{Name: "nope"}}}}, fault.InvalidParameter, "Override for container named nope is not a container in the TaskDefinition."},
		{"unnamed container override", bridge, RunRequest{Overrides: &TaskOverride{ContainerOverrides: []ContainerOverride{{Command: []string{"x"}}}}}, fault.InvalidParameter, "must name the container"},
		{"duplicate container override", bridge, RunRequest{Overrides: &TaskOverride{ContainerOverrides: []ContainerOverride{{Name: "app"}, {Name: "app"}}}}, fault.InvalidParameter, "more than once"},
		{"override memory too small", bridge, RunRequest{Overrides: &TaskOverride{ContainerOverrides: []ContainerOverride{{Name: "app", Memory: intp(4)}}}}, fault.InvalidParameter, "at least 6 MiB"},
		{"override reservation above memory", bridge, RunRequest{Overrides: &TaskOverride{ContainerOverrides: []ContainerOverride{{Name: "app", MemoryReservation: intp(1024)}}}}, fault.InvalidParameter, "'memoryReservation' must be less than or equal to 'memory'"},
		{"override negative cpu", bridge, RunRequest{Overrides: &TaskOverride{ContainerOverrides: []ContainerOverride{{Name: "app", CPU: intp(-1)}}}}, fault.InvalidParameter, "Invalid 'cpu' override"},
		{"override env without name", bridge, RunRequest{Overrides: &TaskOverride{ContainerOverrides: []ContainerOverride{{Name: "app", Environment: []KeyValuePair{{Value: "x"}}}}}}, fault.InvalidParameter, "Environment variable name cannot be empty"},
		{"override task cpu not a Fargate size", fargate, with(func(r *RunRequest) { r.Overrides = &TaskOverride{CPU: "256", Memory: "4096"} }), fault.InvalidParameter, "No Fargate configuration exists for given values: 256 CPU, 4096 memory."},
		{"override task cpu garbage", bridge, RunRequest{Overrides: &TaskOverride{CPU: "lots"}}, fault.InvalidParameter, "Invalid 'cpu' override for task"},
		{"override task memory garbage", bridge, RunRequest{Overrides: &TaskOverride{Memory: "-3"}}, fault.InvalidParameter, "Invalid 'memory' override for task"},
		{"container memory above task override", fargate, with(func(r *RunRequest) {
			r.Overrides = &TaskOverride{ContainerOverrides: []ContainerOverride{{Name: "api", Memory: intp(2048)}}}
		}), fault.InvalidParameter, "exceeds the task memory (1024)"},
		{"ephemeral storage too small", fargate, with(func(r *RunRequest) { r.Overrides = &TaskOverride{EphemeralStorage: &EphemeralStorage{SizeInGiB: 5}} }), fault.InvalidParameter, "ephemeral storage"},
		{"placement on Fargate", fargate, with(func(r *RunRequest) { r.PlacementStrategy = []PlacementStrategy{{Type: "random"}} }), fault.InvalidParameter, "not supported for tasks using the Fargate launch type"},
		{"bad strategy type", bridge, RunRequest{PlacementStrategy: []PlacementStrategy{{Type: "pack"}}}, fault.InvalidParameter, "Invalid placement strategy type"},
		{"binpack field", bridge, RunRequest{PlacementStrategy: []PlacementStrategy{{Type: "binpack", Field: "disk"}}}, fault.InvalidParameter, "binpack"},
		{"spread without field", bridge, RunRequest{PlacementStrategy: []PlacementStrategy{{Type: "spread"}}}, fault.InvalidParameter, "Field must be specified"},
		{"spread bad field", bridge, RunRequest{PlacementStrategy: []PlacementStrategy{{Type: "spread", Field: "attribute:"}}}, fault.InvalidParameter, "Invalid field"},
		{"random with field", bridge, RunRequest{PlacementStrategy: []PlacementStrategy{{Type: "random", Field: "cpu"}}}, fault.InvalidParameter, "random"},
		{"too many strategies", bridge, RunRequest{PlacementStrategy: make([]PlacementStrategy, 6)}, fault.InvalidParameter, "At most 5 placement strategies"},
		{"bad constraint type", bridge, RunRequest{PlacementConstraints: []PlacementConstraint{{Type: "near"}}}, fault.InvalidParameter, "Invalid placement constraint type"},
		{"memberOf without expression", bridge, RunRequest{PlacementConstraints: []PlacementConstraint{{Type: "memberOf"}}}, fault.InvalidParameter, "Expression must be specified"},
		{"distinctInstance with expression", bridge, RunRequest{PlacementConstraints: []PlacementConstraint{{Type: "distinctInstance", Expression: "x"}}}, fault.InvalidParameter, "distinctInstance"},
		{"memberOf bad expression", bridge, RunRequest{PlacementConstraints: []PlacementConstraint{{Type: "memberOf", Expression: "attribute:x =="}}}, fault.InvalidParameter, "Invalid placement constraint expression"},
		{"bad tag", bridge, RunRequest{Tags: []Tag{{Key: "aws:x", Value: "y"}}}, fault.InvalidParameter, "reserved"},
		{"startedBy too long", bridge, RunRequest{StartedBy: strings.Repeat("x", 129)}, fault.InvalidParameter, "startedBy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewTask(testScope, testCluster(), c.td, c.req, "id", testNow)
			if err == nil {
				t.Fatal("NewTask succeeded")
			}
			if fault.KindOf(err) != c.kind || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("err = %v (%v), want %v containing %q", err, fault.KindOf(err), c.kind, c.msg)
			}
		})
	}
	if _, err := NewTask(testScope, testCluster(), bridge, RunRequest{}, "", testNow); err == nil {
		t.Error("NewTask accepted an empty ID")
	}
	for _, n := range []int{0, 1, 10} {
		if err := ValidateRunRequest(bridge, RunRequest{Count: n}); err != nil {
			t.Errorf("count %d: %v", n, err)
		}
	}
}

func TestApplyContainerOverrides(t *testing.T) {
	td := bridgeTD(t)
	o := &TaskOverride{ContainerOverrides: []ContainerOverride{{
		Name: "app", Command: []string{"sh", "-c", "echo hi"},
		Environment: []KeyValuePair{{Name: "B", Value: "two"}, {Name: "C", Value: "3"}},
		CPU:         intp(512), Memory: intp(1024), MemoryReservation: intp(256),
		EnvironmentFiles: []EnvironmentFile{{Value: "arn:aws:s3:::b/f.env", Type: "s3"}},
	}}}
	defs, err := ApplyContainerOverrides(td, o, LaunchEC2)
	if err != nil {
		t.Fatal(err)
	}
	app := defs[0]
	if strings.Join(app.Command, " ") != "sh -c echo hi" || app.CPU != 512 || *app.Memory != 1024 || *app.MemoryReservation != 256 || len(app.EnvironmentFiles) != 1 {
		t.Errorf("app = %+v", app)
	}
	env := fmt.Sprint(app.Environment)
	if env != "[{A 1} {B two} {C 3}]" {
		t.Errorf("environment = %s", env)
	}
	if td.ContainerDefinitions[0].CPU != 256 || len(td.ContainerDefinitions[0].Environment) != 2 || td.ContainerDefinitions[0].Command != nil {
		t.Error("ApplyContainerOverrides modified the task definition")
	}
	if defs[1].Name != "sidecar" || defs[1].CPU != 128 {
		t.Errorf("sidecar = %+v", defs[1])
	}
	// The task takes the overridden sizes.
	task, err := NewTask(testScope, testCluster(), td, RunRequest{Overrides: o}, "t", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if task.CPU != "640" || task.Memory != "320" || task.Containers[0].CPU != "512" {
		t.Errorf("task size %s/%s, container cpu %s", task.CPU, task.Memory, task.Containers[0].CPU)
	}
	if len(task.Overrides.ContainerOverrides) != 1 || task.Overrides.ContainerOverrides[0].CPU == o.ContainerOverrides[0].CPU {
		t.Error("overrides not deep-copied onto the task")
	}
	// Task-level overrides win over the sum.
	task, err = NewTask(testScope, testCluster(), td, RunRequest{Overrides: &TaskOverride{CPU: "1 vcpu", Memory: "2GB"}}, "t", testNow)
	if err != nil || task.CPU != "1024" || task.Memory != "2048" {
		t.Errorf("task-level override: %v %s/%s", err, task.CPU, task.Memory)
	}
}

func TestAdvanceLifecycle(t *testing.T) {
	task, err := NewTask(testScope, testCluster(), fargateTD(t), fargateReq(), "t", testNow)
	if err != nil {
		t.Fatal(err)
	}
	at := func(s int) time.Time { return testNow.Add(time.Duration(s) * time.Second) }
	steps := []string{TaskPending, TaskActivating, TaskRunning, TaskDeactivating, TaskStopping, TaskDeprovisioning, TaskStopped}
	task.MarkPullStarted(at(1))
	for i, s := range steps {
		v := task.Version
		if err := task.Advance(s, at(10+i)); err != nil {
			t.Fatalf("Advance(%s): %v", s, err)
		}
		if task.LastStatus != s || task.Version != v+1 {
			t.Fatalf("after %s: lastStatus %s version %d (was %d)", s, task.LastStatus, task.Version, v)
		}
	}
	want := map[string]time.Time{
		"connectivityAt": at(10), "pullStartedAt": at(1), "pullStoppedAt": at(12), "startedAt": at(12),
		"stoppingAt": at(14), "executionStoppedAt": at(15), "stoppedAt": at(16),
	}
	got := map[string]time.Time{
		"connectivityAt": task.ConnectivityAt, "pullStartedAt": task.PullStartedAt, "pullStoppedAt": task.PullStoppedAt,
		"startedAt": task.StartedAt, "stoppingAt": task.StoppingAt, "executionStoppedAt": task.ExecutionStoppedAt, "stoppedAt": task.StoppedAt,
	}
	for k, w := range want {
		if !got[k].Equal(w) {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	if task.DesiredStatus != TaskStopped || task.Connectivity != ConnectivityConnected || task.StopCode != "" {
		t.Errorf("desired %s connectivity %s stopCode %s", task.DesiredStatus, task.Connectivity, task.StopCode)
	}
	for _, c := range task.Containers {
		if c.LastStatus != ContainerStopped {
			t.Errorf("container %s is %s after the task stopped", c.Name, c.LastStatus)
		}
	}
	if task.Attachments[0].Status != AttachmentDeleted {
		t.Errorf("attachment status %s", task.Attachments[0].Status)
	}
	// STOPPED is terminal.
	for _, s := range steps[:len(steps)-1] {
		if err := task.Advance(s, at(99)); err == nil {
			t.Errorf("Advance(%s) from STOPPED succeeded", s)
		}
	}
	v := task.Version
	if err := task.Advance(TaskStopped, at(99)); err != nil || task.Version != v || !task.StoppedAt.Equal(at(16)) {
		t.Errorf("repeat STOPPED: %v version %d stoppedAt %v", err, task.Version, task.StoppedAt)
	}
}

func TestAdvanceSkipsAndRefusesBackwards(t *testing.T) {
	task, _ := NewTask(testScope, testCluster(), bridgeTD(t), RunRequest{}, "t", testNow)
	later := testNow.Add(time.Minute)
	if err := task.Advance(TaskRunning, later); err != nil {
		t.Fatal(err)
	}
	if err := task.Advance(TaskPending, later); err == nil || fault.KindOf(err) != fault.Invalid {
		t.Errorf("backwards: %v", err)
	}
	if err := task.Advance("EXPLODED", later); err == nil {
		t.Error("unknown status accepted")
	}
	if !task.PullStoppedAt.IsZero() {
		t.Error("pullStoppedAt set without a pull")
	}
	// A task that never ran fails to start.
	never, _ := NewTask(testScope, testCluster(), bridgeTD(t), RunRequest{}, "n", testNow)
	if err := never.Advance(TaskStopped, later); err != nil {
		t.Fatal(err)
	}
	if never.StopCode != StopTaskFailedToStart || !never.StartedAt.IsZero() || !never.StoppingAt.Equal(later) || !never.ExecutionStoppedAt.Equal(later) {
		t.Errorf("never-started task: %+v", never)
	}
	if TaskStatusIndex(TaskProvisioning) != 0 || TaskStatusIndex(TaskStopped) != 7 || TaskStatusIndex("x") != -1 {
		t.Error("TaskStatusIndex")
	}
}

func TestRequestStop(t *testing.T) {
	task, _ := NewTask(testScope, testCluster(), bridgeTD(t), RunRequest{}, "t", testNow)
	_ = task.Advance(TaskRunning, testNow)
	v := task.Version
	later := testNow.Add(time.Minute)
	task.RequestStop(StopUserInitiated, "bye", later)
	if task.DesiredStatus != TaskStopped || task.StopCode != StopUserInitiated || task.StoppedReason != "bye" || !task.StoppingAt.Equal(later) || task.Version != v+1 {
		t.Fatalf("after RequestStop: %+v", task)
	}
	task.RequestStop(StopServiceSchedulerInitiated, "other", later.Add(time.Hour))
	if task.StopCode != StopUserInitiated || task.StoppedReason != "bye" || !task.StoppingAt.Equal(later) || task.Version != v+1 {
		t.Errorf("second RequestStop changed the task: %+v", task)
	}
	if task.LastStatus != TaskRunning {
		t.Error("RequestStop moved lastStatus")
	}
	// Stopping the task afterwards keeps the user's stop code.
	_ = task.Advance(TaskStopped, later.Add(time.Second))
	if task.StopCode != StopUserInitiated {
		t.Errorf("stop code %s", task.StopCode)
	}
	v = task.Version
	task.RequestStop(StopUserInitiated, "again", later)
	if task.Version != v {
		t.Error("RequestStop on a STOPPED task changed it")
	}
	// An essential container exit fills an empty reason.
	e, _ := NewTask(testScope, testCluster(), bridgeTD(t), RunRequest{}, "e", testNow)
	e.RequestStop(StopEssentialContainerExited, EssentialContainerExitedReason, later)
	if e.StoppedReason != "Essential container in task exited" {
		t.Errorf("reason %q", e.StoppedReason)
	}
}

func TestDeriveHealth(t *testing.T) {
	c := func(essential, check bool, health string) Container {
		return Container{Essential: essential, HealthCheck: check, HealthStatus: health}
	}
	cases := []struct {
		name       string
		containers []Container
		want       string
	}{
		{"no containers", nil, HealthUnknown},
		{"no health checks", []Container{c(true, false, HealthUnknown)}, HealthUnknown},
		{"all healthy", []Container{c(true, true, HealthHealthy), c(true, true, HealthHealthy)}, HealthHealthy},
		{"one unknown", []Container{c(true, true, HealthHealthy), c(true, true, HealthUnknown)}, HealthUnknown},
		{"one unhealthy", []Container{c(true, true, HealthHealthy), c(true, true, HealthUnhealthy)}, HealthUnhealthy},
		{"unhealthy beats unknown", []Container{c(true, true, HealthUnknown), c(true, true, HealthUnhealthy)}, HealthUnhealthy},
		{"non-essential ignored", []Container{c(true, true, HealthHealthy), c(false, true, HealthUnhealthy)}, HealthHealthy},
		{"unchecked ignored", []Container{c(true, true, HealthHealthy), c(true, false, HealthUnhealthy)}, HealthHealthy},
	}
	for _, tc := range cases {
		task := &Task{Containers: tc.containers, HealthStatus: HealthUnknown}
		task.DeriveHealth()
		if task.HealthStatus != tc.want {
			t.Errorf("%s: health %s, want %s", tc.name, task.HealthStatus, tc.want)
		}
		if (tc.want != HealthUnknown) != (task.Version == 1) {
			t.Errorf("%s: version %d", tc.name, task.Version)
		}
	}
	task, _ := NewTask(testScope, testCluster(), bridgeTD(t), RunRequest{}, "t", testNow)
	if err := task.SetContainerHealth("app", HealthHealthy); err != nil || task.HealthStatus != HealthHealthy {
		t.Errorf("SetContainerHealth: %v %s", err, task.HealthStatus)
	}
	if err := task.SetContainerHealth("nope", HealthHealthy); err == nil {
		t.Error("unknown container accepted")
	}
}

func TestEssentialExitedAndContainerStatus(t *testing.T) {
	task, _ := NewTask(testScope, testCluster(), bridgeTD(t), RunRequest{}, "t", testNow)
	if _, ok := task.EssentialExited(); ok {
		t.Error("fresh task has an exited essential container")
	}
	if err := task.SetContainerStatus("sidecar", ContainerStopped, intp(0), ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := task.EssentialExited(); ok {
		t.Error("a non-essential exit counts")
	}
	if err := task.SetContainerStatus("app", ContainerRunning, nil, ""); err != nil {
		t.Fatal(err)
	}
	if err := task.SetContainerStatus("app", ContainerPending, nil, ""); err == nil {
		t.Error("container moved back")
	}
	if err := task.SetContainerStatus("app", ContainerStopped, intp(137), "OOMKilled"); err != nil {
		t.Fatal(err)
	}
	name, ok := task.EssentialExited()
	if !ok || name != "app" {
		t.Errorf("EssentialExited = %q %v", name, ok)
	}
	app := task.Container("app")
	if *app.ExitCode != 137 || app.Reason != "OOMKilled" {
		t.Errorf("app = %+v", app)
	}
	if err := task.SetContainerStatus("app", "FLYING", nil, ""); err == nil {
		t.Error("unknown container status accepted")
	}
	if err := task.SetContainerStatus("ghost", ContainerRunning, nil, ""); err == nil {
		t.Error("unknown container accepted")
	}
}

func TestAttachENIAndAssignInstance(t *testing.T) {
	task, _ := NewTask(testScope, testCluster(), fargateTD(t), fargateReq(), "t", testNow)
	eni := ENI{NetworkInterfaceID: "eni-1", MACAddress: "02:42:ac:11:00:02", PrivateDNSName: "ip-10-0-0-5.ec2.internal", PrivateIPv4Address: "10.0.0.5"}
	if err := task.AttachENI(eni); err != nil {
		t.Fatal(err)
	}
	a := task.Attachments[0]
	for k, v := range map[string]string{"subnetId": "subnet-1", "networkInterfaceId": "eni-1", "macAddress": "02:42:ac:11:00:02", "privateDnsName": "ip-10-0-0-5.ec2.internal", "privateIPv4Address": "10.0.0.5"} {
		if a.Detail(k) != v {
			t.Errorf("detail %s = %q, want %q", k, a.Detail(k), v)
		}
	}
	if a.Status != AttachmentAttached || task.Containers[0].NetworkInterfaces[0].PrivateIPv4Address != "10.0.0.5" || task.Containers[0].NetworkInterfaces[0].AttachmentID != a.ID {
		t.Errorf("attachment %+v container %+v", a, task.Containers[0])
	}
	bridge, _ := NewTask(testScope, testCluster(), bridgeTD(t), RunRequest{}, "b", testNow)
	if err := bridge.AttachENI(eni); err == nil {
		t.Error("AttachENI on a bridge task succeeded")
	}
	ci, err := NewContainerInstance(testScope, testCluster(), InstanceRegistration{CPU: 1024, Memory: 2048, AvailabilityZone: "us-east-1b"}, "ci1", testNow)
	if err != nil {
		t.Fatal(err)
	}
	bridge.AssignInstance(ci)
	if bridge.ContainerInstanceARN != ci.ARN || bridge.AvailabilityZone != "us-east-1b" {
		t.Errorf("assigned: %s %s", bridge.ContainerInstanceARN, bridge.AvailabilityZone)
	}
}

func TestTaskJSON(t *testing.T) {
	task, _ := NewTask(testScope, testCluster(), fargateTD(t), fargateReq(), "t-json", testNow)
	b, err := json.Marshal(task)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"taskArn":`, `"clusterArn":`, `"taskDefinitionArn":`, `"lastStatus":"PROVISIONING"`, `"desiredStatus":"RUNNING"`,
		`"createdAt":"2025-03-01T12:00:00Z"`, `"containers":[`, `"containerArn":`, `"overrides":{"containerOverrides":[]`, `"attachments":[`,
		`"platformVersion":"1.4.0"`, `"platformFamily":"Linux"`, `"version":1`, `"enableExecuteCommand":false`, `"networkBindings":[]`} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s: %s", want, s)
		}
	}
	for _, absent := range []string{"stoppedAt", "startedAt", "pullStartedAt", `"ID"`, `"id":"t-json"`, "exitCode"} {
		if strings.Contains(s, absent) {
			t.Errorf("JSON has %s: %s", absent, s)
		}
	}
	var back Task
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.ID != "t-json" || back.ARN != task.ARN || !back.CreatedAt.Equal(task.CreatedAt) || len(back.Containers) != 1 || back.Containers[0].Essential != true {
		t.Errorf("round trip: %+v", back)
	}
}
