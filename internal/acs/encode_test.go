package acs

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func ptr[T any](v T) *T { return &v }

// fullDefinition uses every container setting berth's runner supports.
func fullDefinition() (*ecs.Task, *ecs.TaskDefinition) {
	td := &ecs.TaskDefinition{
		Family: "shop", Revision: 7, ARN: "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:7", NetworkMode: "bridge",
		Volumes: []ecs.Volume{
			{Name: "scratch"},
			{Name: "logs", Host: &ecs.HostVolumeProperties{SourcePath: "/var/log/shop"}},
			{Name: "data", DockerVolumeConfiguration: &ecs.DockerVolumeConfiguration{Scope: "shared", Autoprovision: ptr(true), Driver: "local", Labels: map[string]string{"tier": "db"}}},
		},
		ContainerDefinitions: []ecs.ContainerDefinition{
			{
				Name: "db", Image: "busybox:static", CPU: 128, MemoryReservation: ptr(64), Essential: ptr(false),
				Command:      []string{"sh", "-c", "touch /ready; sleep 3600"},
				DockerLabels: map[string]string{"com.example.role": "db"},
				HealthCheck:  &ecs.HealthCheck{Command: []string{"CMD-SHELL", "test -f /ready"}, Interval: ptr(5), Timeout: ptr(3), Retries: ptr(2), StartPeriod: ptr(1)},
				MountPoints:  []ecs.MountPoint{{SourceVolume: "data", ContainerPath: "/data"}},
			},
			{
				Name: "app", Image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1", CPU: 256, Memory: ptr(256), MemoryReservation: ptr(128),
				EntryPoint: []string{"/bin/sh", "-c"}, Command: []string{"exec app"},
				Environment:  []ecs.KeyValuePair{{Name: "B", Value: "2"}, {Name: "A", Value: "1"}},
				PortMappings: []ecs.PortMapping{{ContainerPort: ptr(8080), HostPort: ptr(0), Protocol: "tcp"}, {ContainerPort: ptr(53), Protocol: "udp"}},
				Links:        []string{"db:database"},
				MountPoints:  []ecs.MountPoint{{SourceVolume: "scratch", ContainerPath: "/tmp/s"}, {SourceVolume: "logs", ContainerPath: "/logs", ReadOnly: ptr(true)}},
				VolumesFrom:  []ecs.VolumeFrom{{SourceContainer: "db", ReadOnly: ptr(true)}},
				DependsOn:    []ecs.ContainerDependency{{ContainerName: "db", Condition: "HEALTHY"}},
				Privileged:   ptr(true), ReadonlyRootFilesystem: ptr(true), User: "1000", WorkingDirectory: "/srv", Hostname: "app",
				Secrets:          []ecs.Secret{{Name: "DB_PASSWORD", ValueFrom: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"}, {Name: "TOKEN", ValueFrom: "/shop/token"}},
				Ulimits:          []ecs.Ulimit{{Name: "nofile", SoftLimit: 1024, HardLimit: 4096}},
				LogConfiguration: &ecs.LogConfiguration{LogDriver: "json-file", Options: map[string]string{"max-size": "10m"}},
				RestartPolicy:    &ecs.RestartPolicy{Enabled: true, IgnoredExitCodes: []int{0}, RestartAttemptPeriod: ptr(60)},
				StopTimeout:      ptr(20), StartTimeout: ptr(30),
				DNSServers: []string{"10.0.0.2"}, ExtraHosts: []ecs.HostEntry{{Hostname: "api.local", IPAddress: "10.0.0.9"}},
				LinuxParameters: &ecs.LinuxParameters{
					Capabilities: &ecs.KernelCapabilities{Add: []string{"NET_ADMIN"}, Drop: []string{"MKNOD"}}, InitProcessEnabled: ptr(true),
					Tmpfs: []ecs.Tmpfs{{ContainerPath: "/run", Size: 64, MountOptions: []string{"noexec"}}}, MaxSwap: ptr(512), Swappiness: ptr(10),
				},
			},
		},
	}
	task := &ecs.Task{
		ARN: "arn:aws:ecs:us-east-1:123456789012:task/shop-cluster/0123456789abcdef0123456789abcdef", ClusterARN: "arn:aws:ecs:us-east-1:123456789012:cluster/shop-cluster",
		DesiredStatus: "RUNNING", LaunchType: "EXTERNAL", Group: "family:shop", CPU: "384", Memory: "320",
		Overrides: ecs.TaskOverride{ContainerOverrides: []ecs.ContainerOverride{{Name: "app", Environment: []ecs.KeyValuePair{{Name: "A", Value: "overridden"}}}}},
		Containers: []ecs.Container{
			{Name: "db", ContainerARN: "arn:aws:ecs:us-east-1:123456789012:container/shop-cluster/0123456789abcdef0123456789abcdef/c-db"},
			{Name: "app", ContainerARN: "arn:aws:ecs:us-east-1:123456789012:container/shop-cluster/0123456789abcdef0123456789abcdef/c-app"},
		},
	}
	return task, td
}

// TestNewTaskGolden pins the ACS form of a full task definition: every
// setting in ECS's own ACS members or Docker JSON, no task-level size for
// a definition without one, memoryReservation as a soft limit.
func TestNewTaskGolden(t *testing.T) {
	task, td := fullDefinition()
	got, err := json.MarshalIndent(NewTask(task, td), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "task.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(got)+"\n" {
		t.Fatalf("ACS task differs from %s (go test -update to accept):\n%s", golden, got)
	}
}

// TestDefinitionRoundTrip reads the ACS form back as berth's agent does:
// it gets the same settings, and encoding them again gives the same
// message.
func TestDefinitionRoundTrip(t *testing.T) {
	task, td := fullDefinition()
	msg := NewTask(task, td)
	b, _ := json.Marshal(msg)
	var wire Task
	if err := json.Unmarshal(b, &wire); err != nil {
		t.Fatal(err)
	}
	gotTask, gotTD, err := wire.Definition()
	if err != nil {
		t.Fatal(err)
	}
	if gotTask.ARN != task.ARN || gotTask.ID != "0123456789abcdef0123456789abcdef" || gotTask.ClusterARN != task.ClusterARN || gotTask.LaunchType != "EXTERNAL" {
		t.Fatalf("task: %+v", gotTask)
	}
	if gotTD.ARN != td.ARN || gotTD.CPU != "" || gotTD.Memory != "" || gotTD.NetworkMode != "bridge" || len(gotTD.Volumes) != 3 {
		t.Fatalf("definition: %+v", gotTD)
	}
	if !reflect.DeepEqual(gotTD.Volumes, []ecs.Volume{
		{Name: "scratch", Host: &ecs.HostVolumeProperties{}},
		{Name: "logs", Host: &ecs.HostVolumeProperties{SourcePath: "/var/log/shop"}},
		{Name: "data", DockerVolumeConfiguration: td.Volumes[2].DockerVolumeConfiguration},
	}) {
		t.Fatalf("volumes: %+v", gotTD.Volumes)
	}
	db, app := gotTD.ContainerDefinitions[0], gotTD.ContainerDefinitions[1]
	if db.Memory != nil || *db.MemoryReservation != 64 || db.DockerLabels["com.example.role"] != "db" || *db.Essential {
		t.Fatalf("db: %+v", db)
	}
	if hc := db.HealthCheck; hc == nil || !reflect.DeepEqual(hc, td.ContainerDefinitions[0].HealthCheck) {
		t.Fatalf("db health check: %+v", hc)
	}
	wantApp := td.ContainerDefinitions[1]
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"memory", *app.Memory, 256}, {"memoryReservation", *app.MemoryReservation, 128},
		{"environment", app.Environment, []ecs.KeyValuePair{{Name: "A", Value: "overridden"}, {Name: "B", Value: "2"}}},
		{"entryPoint", app.EntryPoint, wantApp.EntryPoint}, {"command", app.Command, wantApp.Command},
		{"links", app.Links, wantApp.Links}, {"mountPoints", app.MountPoints, []ecs.MountPoint{{SourceVolume: "scratch", ContainerPath: "/tmp/s"}, {SourceVolume: "logs", ContainerPath: "/logs", ReadOnly: ptr(true)}}},
		{"volumesFrom", app.VolumesFrom, wantApp.VolumesFrom}, {"dependsOn", app.DependsOn, wantApp.DependsOn},
		{"privileged", *app.Privileged, true}, {"readonlyRootFilesystem", *app.ReadonlyRootFilesystem, true},
		{"user", app.User, "1000"}, {"workingDirectory", app.WorkingDirectory, "/srv"}, {"hostname", app.Hostname, "app"},
		{"secrets", app.Secrets, wantApp.Secrets}, {"ulimits", app.Ulimits, wantApp.Ulimits},
		{"logConfiguration", app.LogConfiguration, wantApp.LogConfiguration}, {"restartPolicy", app.RestartPolicy, wantApp.RestartPolicy},
		{"stopTimeout", *app.StopTimeout, 20}, {"startTimeout", *app.StartTimeout, 30},
		{"dnsServers", app.DNSServers, wantApp.DNSServers}, {"extraHosts", app.ExtraHosts, wantApp.ExtraHosts},
		{"linuxParameters", app.LinuxParameters, wantApp.LinuxParameters},
		{"portMappings", app.PortMappings, []ecs.PortMapping{{ContainerPort: ptr(8080), Protocol: "tcp"}, {ContainerPort: ptr(53), Protocol: "udp"}}},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("app %s: got %+v, want %+v", c.name, c.got, c.want)
		}
	}
	again := NewTask(gotTask, gotTD)
	b2, _ := json.Marshal(again)
	if string(b) != string(b2) {
		t.Fatalf("re-encoding differs:\n%s\n%s", b, b2)
	}
}

func TestTaskSizeOnlyWhenDefined(t *testing.T) {
	task, td := fullDefinition()
	if m := NewTask(task, td); m.CPU != 0 || m.Memory != 0 {
		t.Fatalf("task-level size sent for a definition without one: cpu %v memory %v", m.CPU, m.Memory)
	}
	td.CPU, td.Memory = "1 vCPU", "2GB"
	m := NewTask(task, td)
	if m.CPU != 1 || m.Memory != 2048 {
		t.Fatalf("task-level size: cpu %v memory %v", m.CPU, m.Memory)
	}
	_, back, err := m.Definition()
	if err != nil || back.CPU != "1024" || back.Memory != "2048" {
		t.Fatalf("read back: %+v %v", back, err)
	}
	task.Overrides.CPU = "512"
	if m := NewTask(task, td); m.CPU != 0.5 {
		t.Fatalf("overridden cpu: %v", m.CPU)
	}
}

func TestStopOnlyTask(t *testing.T) {
	task, _ := fullDefinition()
	task.DesiredStatus = "STOPPED"
	m := NewTask(task, nil)
	got, td, err := m.Definition()
	if err != nil || td != nil || got.DesiredStatus != "STOPPED" || got.ARN != task.ARN {
		t.Fatalf("stop-only task: %+v %+v %v", got, td, err)
	}
	m.Containers = []Container{{Name: "x", DockerConfig: &DockerConfig{Config: "{"}}}
	m.Version = "1"
	if _, _, err := m.Definition(); err == nil {
		t.Fatal("undecodable docker config accepted")
	}
}

// Reading any payload task never panics, and what reads encodes back to
// a task that reads the same.
func FuzzTaskDefinition(f *testing.F) {
	task, td := fullDefinition()
	seed, _ := json.Marshal(NewTask(task, td))
	f.Add(seed)
	f.Add([]byte(`{"arn":"a","version":"x","containers":[{"name":"c","dockerConfig":{"config":"{\"Healthcheck\":{}}","hostConfig":"{\"Tmpfs\":{\"/t\":\"size=xm\"}}"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Task
		if json.Unmarshal(b, &m) != nil {
			return
		}
		gotTask, gotTD, err := m.Definition()
		if err != nil || gotTD == nil {
			return
		}
		again := NewTask(gotTask, gotTD)
		t2, td2, err := again.Definition()
		if err != nil {
			t.Fatalf("re-encoded task does not read: %v", err)
		}
		if !reflect.DeepEqual(NewTask(t2, td2), again) {
			t.Fatalf("encoding is not stable:\n%+v\n%+v", NewTask(t2, td2), again)
		}
	})
}
