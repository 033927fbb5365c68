package ecsapi_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/berthtest"
	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/docker"
	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// httpdCommand serves /health on 8080 with busybox httpd.
var httpdCommand = []string{"sh", "-c", "mkdir -p /www && echo ok > /www/health && exec httpd -f -p 8080 -h /www"}

// busyboxSeed is the seed's task definition with the image replaced by the
// offline busybox test image, a busybox-compatible health check and a
// short stop timeout (httpd as PID 1 ignores SIGTERM).
func busyboxSeed(t *testing.T, image string) *ecs.RegisterTaskDefinitionInput {
	in := seedInput(t)
	cd := &in.ContainerDefinitions[0]
	cd.Image = aws.String(image)
	cd.HealthCheck = &types.HealthCheck{
		Command:  []string{"CMD-SHELL", "wget -q -O- http://localhost:8080/health || exit 1"},
		Interval: aws.Int32(5), Timeout: aws.Int32(2), Retries: aws.Int32(3),
	}
	cd.StopTimeout = aws.Int32(2)
	return in
}

// removeTask removes what the runtime left of a task in Docker.
func removeTask(d *docker.Driver, arn string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sel := map[string]string{driver.LabelTaskARN: arn}
	if cs, err := d.ListContainers(ctx, sel); err == nil {
		for _, c := range cs {
			_ = d.RemoveContainer(ctx, c.ID)
		}
	}
	if ns, err := d.ListTaskNetworks(ctx, sel); err == nil {
		for _, n := range ns {
			_ = d.RemoveTaskNetwork(ctx, n.ID)
		}
	}
}

// TestFargateTaskRunsInDocker runs the seed (on busybox) as a Fargate task
// on the managed capacity and talks to it over its private IP.
func TestFargateTaskRunsInDocker(t *testing.T) {
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	srv := berthtest.Start(t)
	c := ecs.NewFromConfig(srv.AWSConfig("eu-west-1"))
	ctx := t.Context()
	createCluster(t, c, "prod-cluster")
	in := busyboxSeed(t, image)
	prepareSeedAccount(t, srv, in)
	if _, err := c.RegisterTaskDefinition(ctx, in); err != nil {
		t.Fatal(err)
	}
	run, err := c.RunTask(ctx, &ecs.RunTaskInput{
		Cluster: aws.String("prod-cluster"), TaskDefinition: aws.String("web-app"), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: networkConfiguration(),
		Overrides:            &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{Name: aws.String("web"), Command: httpdCommand}}},
	})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %+v %v", run, err)
	}
	arn := aws.ToString(run.Tasks[0].TaskArn)
	t.Cleanup(func() { removeTask(d, arn) })

	deadline := time.Now().Add(90 * time.Second)
	var task types.Task
	for {
		out, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod-cluster"), Tasks: []string{arn}})
		if err != nil {
			t.Fatal(err)
		}
		task = out.Tasks[0]
		if aws.ToString(task.LastStatus) == "RUNNING" && task.HealthStatus == types.HealthStatusHealthy {
			break
		}
		if aws.ToString(task.LastStatus) == "STOPPED" || time.Now().After(deadline) {
			t.Fatalf("task did not become RUNNING and HEALTHY: %s %s %q", aws.ToString(task.LastStatus), task.HealthStatus, aws.ToString(task.StoppedReason))
		}
		time.Sleep(250 * time.Millisecond)
	}
	ip := ""
	for _, a := range task.Attachments {
		if aws.ToString(a.Type) != "ElasticNetworkInterface" {
			continue
		}
		for _, kv := range a.Details {
			if aws.ToString(kv.Name) == "privateIPv4Address" {
				ip = aws.ToString(kv.Value)
			}
		}
	}
	if ip == "" || len(task.Containers[0].NetworkInterfaces) != 1 || aws.ToString(task.Containers[0].NetworkInterfaces[0].PrivateIpv4Address) != ip {
		t.Fatalf("no ENI address: attachments %+v containers %+v", task.Attachments, task.Containers)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + ip + ":8080/health")
	if err != nil {
		t.Fatalf("the task does not answer at its private IP: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "ok" {
		t.Fatalf("GET /health: %d %q", resp.StatusCode, body)
	}
	list, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod-cluster"), DesiredStatus: types.DesiredStatusRunning})
	if err != nil || len(list.TaskArns) != 1 || list.TaskArns[0] != arn {
		t.Fatalf("ListTasks RUNNING: %v %v", list, err)
	}
	if _, err := c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("prod-cluster"), Task: aws.String(arn), Reason: aws.String("end of test")}); err != nil {
		t.Fatal(err)
	}
	stopped := waitTask(t, c, "prod-cluster", arn, "STOPPED", status("STOPPED"))
	if stopped.Containers[0].ExitCode == nil || aws.ToString(stopped.StoppedReason) != "end of test" || stopped.StopCode != types.TaskStopCodeUserInitiated {
		t.Fatalf("stopped task: exit %v reason %q code %s", stopped.Containers[0].ExitCode, aws.ToString(stopped.StoppedReason), stopped.StopCode)
	}
	t.Logf("task %s ran at %s and stopped with exit code %d", arn, ip, *stopped.Containers[0].ExitCode)
}
