package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// metadataScript fetches $ECS_CONTAINER_METADATA_URI_V4 and its /task,
// /stats and /task/stats with busybox nc and prints each body on one line
// prefixed with its path.
const metadataScript = `uri=$ECS_CONTAINER_METADATA_URI_V4; hp=${uri#http://}; hp=${hp%%/*}; base=/${uri#http://*/}
get() { printf "GET $1 HTTP/1.0\r\nHost: $hp\r\n\r\n" | nc -w 5 ${hp%:*} ${hp#*:} | sed '1,/^\r*$/d' | tr -d '\n'; echo; }
sleep 1
echo "ROOT $(get $base)"; echo "TASK $(get $base/task)"; echo "STATS $(get $base/stats)"; echo "TASKSTATS $(get $base/task/stats)"`

// TestTaskMetadataV4FromContainer runs a Fargate (awsvpc) task whose
// container reads its task metadata endpoint v4 and prints what it gets
// (shipped by the awslogs driver): the container's own metadata, the task
// with its containers, and Docker statistics, in ECS's shapes.
func TestTaskMetadataV4FromContainer(t *testing.T) {
	requireAWSCLI(t)
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	p := startBerth(t, t.TempDir())
	createExecutionRole(t, p)
	c := ecsClient(p.URL)
	ctx := t.Context()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod-cluster")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterTaskDefinition(ctx, awslogsDefinition(image, "meta", "/ecs/meta", metadataScript, true)); err != nil {
		t.Fatal(err)
	}
	arn := runAwslogsTask(t, c, "meta")
	t.Cleanup(func() { cleanupTask(d, arn) })
	waitStatus(t, c, "prod-cluster", arn, "STOPPED", p.log.String)
	stream := "app/web/" + arn[strings.LastIndexByte(arn, '/')+1:]
	var msgs []string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if msgs = streamMessages(t, p, "/ecs/meta", stream); len(msgs) >= 4 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	got := map[string]string{}
	for _, m := range msgs {
		k, v, _ := strings.Cut(m, " ")
		got[k] = v
	}
	var root struct {
		DockerId, Name, Image, KnownStatus, ContainerARN, Type string
		Limits                                                 struct{ CPU float64 }
		Labels                                                 map[string]string
		LogOptions                                             map[string]string
		Networks                                               []struct {
			NetworkMode   string
			IPv4Addresses []string
		}
	}
	if err := json.Unmarshal([]byte(got["ROOT"]), &root); err != nil {
		t.Fatalf("container metadata %q: %v (all: %q)", got["ROOT"], err, msgs)
	}
	if root.Name != "web" || root.KnownStatus != "RUNNING" || root.DockerId == "" || root.Type != "NORMAL" ||
		root.Labels["com.amazonaws.ecs.task-arn"] != arn || root.LogOptions["awslogs-stream"] != stream ||
		len(root.Networks) != 1 || root.Networks[0].NetworkMode != "awsvpc" || len(root.Networks[0].IPv4Addresses) != 1 {
		t.Fatalf("container metadata: %s", got["ROOT"])
	}
	var task struct {
		Cluster, TaskARN, Family, Revision, DesiredStatus, KnownStatus, LaunchType string
		Limits                                                                     struct {
			CPU    float64
			Memory int
		}
		Containers []struct{ Name, DockerId string }
	}
	if err := json.Unmarshal([]byte(got["TASK"]), &task); err != nil {
		t.Fatalf("task metadata %q: %v", got["TASK"], err)
	}
	if task.TaskARN != arn || task.Family != "meta" || task.Revision != "1" || task.LaunchType != "FARGATE" ||
		!strings.HasSuffix(task.Cluster, "cluster/prod-cluster") || task.Limits.CPU != 0.25 || task.Limits.Memory != 512 ||
		len(task.Containers) != 1 || task.Containers[0].DockerId != root.DockerId {
		t.Fatalf("task metadata: %s", got["TASK"])
	}
	var stats struct {
		Read        string `json:"read"`
		MemoryStats struct {
			Usage uint64 `json:"usage"`
		} `json:"memory_stats"`
	}
	if err := json.Unmarshal([]byte(got["STATS"]), &stats); err != nil || stats.Read == "" || stats.MemoryStats.Usage == 0 {
		t.Fatalf("stats %q: %v", got["STATS"], err)
	}
	var taskStats map[string]json.RawMessage
	if err := json.Unmarshal([]byte(got["TASKSTATS"]), &taskStats); err != nil || len(taskStats[root.DockerId]) == 0 {
		t.Fatalf("task stats %q: %v", got["TASKSTATS"], err)
	}
}

// TestTaskMetadataV4BridgeAndHost runs the metadata-reading container as
// EC2 tasks on a `berth agent` process, in bridge and in host network
// mode: the endpoint answers in both, with the task's network mode.
func TestTaskMetadataV4BridgeAndHost(t *testing.T) {
	requireAWSCLI(t)
	d := dockertest.New(t)
	image := dockertest.Busybox(t, d)
	p := startBerth(t, t.TempDir())
	createExecutionRole(t, p)
	c := ecsClient(p.URL)
	ctx := t.Context()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("ec2-cluster")}); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, p.URL, "ec2-cluster", t.TempDir(), nil)
	logs := func() string { return "agent:\n" + a.log.String() + "\nserver:\n" + p.log.String() }
	waitInstance(t, c, "ec2-cluster", true, logs)
	for _, mode := range []types.NetworkMode{types.NetworkModeBridge, types.NetworkModeHost} {
		family := "meta-" + string(mode)
		def := awslogsDefinition(image, family, "/ecs/meta-ec2", metadataScript, true)
		def.NetworkMode, def.Cpu, def.Memory = mode, nil, nil
		def.RequiresCompatibilities = []types.Compatibility{types.CompatibilityEc2}
		def.ContainerDefinitions[0].Memory = aws.Int32(128)
		if _, err := c.RegisterTaskDefinition(ctx, def); err != nil {
			t.Fatal(err)
		}
		run, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("ec2-cluster"), TaskDefinition: aws.String(family), LaunchType: types.LaunchTypeEc2})
		if err != nil || len(run.Tasks) != 1 {
			t.Fatalf("RunTask %s: %+v %v", mode, run, err)
		}
		arn := aws.ToString(run.Tasks[0].TaskArn)
		t.Cleanup(func() { cleanupTask(d, arn) })
		got := taskOutput(t, p, arn, "/ecs/meta-ec2", "TASK")
		var root struct {
			Name     string
			Networks []struct{ NetworkMode string }
		}
		if err := json.Unmarshal([]byte(got["ROOT"]), &root); err != nil || root.Name != "web" || len(root.Networks) != 1 || root.Networks[0].NetworkMode != string(mode) {
			t.Fatalf("%s: container metadata %q: %v; %s", mode, got["ROOT"], err, logs())
		}
		var task struct{ TaskARN, LaunchType string }
		if err := json.Unmarshal([]byte(got["TASK"]), &task); err != nil || task.TaskARN != arn || task.LaunchType != "EC2" {
			t.Fatalf("%s: task metadata %q: %v", mode, got["TASK"], err)
		}
	}
}
