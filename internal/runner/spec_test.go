package runner

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/ecs"
)

func TestBuildPlanContainerSpec(t *testing.T) {
	task := newTask()
	task.Overrides.ContainerOverrides = []ecs.ContainerOverride{{
		Name:        "web",
		Command:     []string{"serve", "--fast"},
		Environment: []ecs.KeyValuePair{{Name: "ENV", Value: "staging"}, {Name: "NEW", Value: "1"}},
	}}
	td := &ecs.TaskDefinition{
		Family: "shop", Revision: 7, NetworkMode: "bridge", CPU: "512",
		Volumes: []ecs.Volume{
			{Name: "host", Host: &ecs.HostVolumeProperties{SourcePath: "/srv/data"}},
			{Name: "scratch", Host: &ecs.HostVolumeProperties{}},
			{Name: "bare"},
			{Name: "tv", DockerVolumeConfiguration: &ecs.DockerVolumeConfiguration{Scope: "task", Labels: map[string]string{"k": "v"}}},
			{Name: "shared", DockerVolumeConfiguration: &ecs.DockerVolumeConfiguration{Scope: "shared"}},
		},
		ContainerDefinitions: []ecs.ContainerDefinition{
			{
				Name: "web", Image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1",
				Memory: ptr(256), MemoryReservation: ptr(128),
				EntryPoint:  []string{"/app"},
				Command:     []string{"serve"},
				Environment: []ecs.KeyValuePair{{Name: "ENV", Value: "prod"}, {Name: "KEEP", Value: "yes"}},
				PortMappings: []ecs.PortMapping{
					{ContainerPort: ptr(80), Protocol: "tcp"},
					{ContainerPort: ptr(53), HostPort: ptr(5353), Protocol: "udp"},
				},
				MountPoints: []ecs.MountPoint{
					{SourceVolume: "host", ContainerPath: "/data", ReadOnly: ptr(true)},
					{SourceVolume: "scratch", ContainerPath: "/scratch"},
					{SourceVolume: "bare", ContainerPath: "/bare"},
					{SourceVolume: "tv", ContainerPath: "/tv"},
					{SourceVolume: "shared", ContainerPath: "/shared"},
				},
				VolumesFrom:            []ecs.VolumeFrom{{SourceContainer: "side", ReadOnly: ptr(true)}},
				WorkingDirectory:       "/work",
				User:                   "1000:1000",
				ReadonlyRootFilesystem: ptr(true),
				Hostname:               "web.local",
				DNSServers:             []string{"10.0.0.2"},
				ExtraHosts:             []ecs.HostEntry{{Hostname: "db", IPAddress: "10.0.0.3"}},
				DockerLabels:           map[string]string{"team": "shop", driver.LabelTaskARN: "spoofed", "berth.driver.x": "no"},
				Ulimits:                []ecs.Ulimit{{Name: "nofile", SoftLimit: 1024, HardLimit: 4096}},
				LinuxParameters: &ecs.LinuxParameters{
					InitProcessEnabled: ptr(true),
					Capabilities:       &ecs.KernelCapabilities{Add: []string{"NET_ADMIN"}, Drop: []string{"MKNOD"}},
					Tmpfs:              []ecs.Tmpfs{{ContainerPath: "/run", Size: 64}},
					MaxSwap:            ptr(32),
				},
				HealthCheck: &ecs.HealthCheck{Command: []string{"CMD-SHELL", "curl -f localhost"}, Retries: ptr(5)},
				DependsOn:   []ecs.ContainerDependency{{ContainerName: "side", Condition: "START"}},
				StopTimeout: ptr(12),
			},
			{Name: "side", Image: "side:1", CPU: 1, MemoryReservation: ptr(16), Essential: ptr(false),
				HealthCheck: &ecs.HealthCheck{Command: []string{"NONE"}}},
			{Name: "big", Image: "big:1", CPU: 300000, MemoryReservation: ptr(16), Privileged: ptr(true), DisableNetworking: ptr(true)},
		},
	}
	cfg := Config{
		Cluster: "c1", InstanceARN: "i1", StopTimeout: DefaultStopTimeout,
		ImageRewrite: func(s string) string {
			return strings.Replace(s, "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "localhost:4566", 1)
		},
		ExtraEnv: func(task *ecs.Task, container string) map[string]string {
			return map[string]string{"ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/" + container}
		},
	}
	p, err := buildPlan(cfg, TaskSpec{Task: task, Definition: td})
	if err != nil {
		t.Fatal(err)
	}
	if p.network != nil || p.mode != driver.NetworkModeBridge {
		t.Errorf("mode %s network %+v", p.mode, p.network)
	}
	id := task.ID
	web, side, big := p.containers[0], p.containers[1], p.containers[2]
	s := web.spec
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", what, got, want)
		}
	}
	check("name", s.Name, "ecs-shop-7-web-"+id)
	check("image", s.Image, "localhost:4566/web:1")
	check("source image", web.sourceImage, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1")
	check("entrypoint", s.Entrypoint, []string{"/app"})
	check("command", s.Command, []string{"serve", "--fast"})
	check("env", s.Env, map[string]string{"ENV": "staging", "KEEP": "yes", "NEW": "1", "ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/web"})
	check("cpu shares (task-level cpu)", s.CPUShares, int64(512))
	check("cpu shares 1 → 2", side.spec.CPUShares, int64(2))
	check("cpu shares clamped", big.spec.CPUShares, int64(262144))
	check("memory", [3]int64{s.MemoryMiB, s.MemoryReservationMiB, s.SwapMiB}, [3]int64{256, 128, 32})
	check("ulimits", s.Ulimits, []driver.Ulimit{{Name: "nofile", Soft: 1024, Hard: 4096}})
	check("user/workdir", [2]string{s.User, s.WorkingDir}, [2]string{"1000:1000", "/work"})
	check("readonly/init/privileged", [3]bool{s.ReadonlyRootFilesystem, s.Init, s.Privileged}, [3]bool{true, true, false})
	check("caps", [2][]string{s.CapAdd, s.CapDrop}, [2][]string{{"NET_ADMIN"}, {"MKNOD"}})
	check("mounts", s.Mounts, []driver.Mount{
		{Type: driver.MountTypeTmpfs, Target: "/run", SizeMiB: 64},
		{Type: driver.MountTypeBind, Source: "/srv/data", Target: "/data", ReadOnly: true},
		{Type: driver.MountTypeVolume, Source: "ecs-shop-7-scratch-" + id, Target: "/scratch"},
		{Type: driver.MountTypeVolume, Source: "ecs-shop-7-bare-" + id, Target: "/bare"},
		{Type: driver.MountTypeVolume, Source: "ecs-shop-7-tv-" + id, Target: "/tv"},
		{Type: driver.MountTypeVolume, Source: "shared", Target: "/shared"},
	})
	check("volumesFrom", s.VolumesFrom, []string{"ecs-shop-7-side-" + id + ":ro"})
	check("volumesFrom deps", web.volumesFrom, []string{"side"})
	check("health check", s.HealthCheck, &driver.HealthCheck{
		Command: []string{"CMD-SHELL", "curl -f localhost"}, Interval: 30 * time.Second, Timeout: 5 * time.Second, Retries: 5,
	})
	check("NONE health check", side.spec.HealthCheck, (*driver.HealthCheck)(nil))
	check("stop timeouts", [2]time.Duration{s.StopTimeout, side.stopTimeout}, [2]time.Duration{12 * time.Second, 30 * time.Second})
	check("essential", [2]bool{web.essential, side.essential}, [2]bool{true, false})
	check("network", s.Network, driver.NetworkAttachment{Mode: driver.NetworkModeBridge, PortMappings: []driver.PortMapping{
		{ContainerPort: 80, Protocol: "tcp"}, {ContainerPort: 53, HostPort: 5353, Protocol: "udp"},
	}})
	check("hostname/dns/hosts", []any{s.Hostname, s.DNSServers, s.ExtraHosts}, []any{"web.local", []string{"10.0.0.2"}, []driver.Host{{Hostname: "db", IPAddress: "10.0.0.3"}}})
	check("disableNetworking", big.spec.Network.Mode, driver.NetworkModeNone)

	for k, v := range map[string]string{
		driver.LabelTaskARN: task.ARN, driver.LabelContainerName: "web", driver.LabelCluster: "c1", driver.LabelInstance: "i1",
		LabelEssential: "true", LabelStopTimeout: "12s", LabelDependsOn: "side:START", LabelHealthCheck: "true", LabelIndex: "0",
		"team": "shop", "com.amazonaws.ecs.task-arn": task.ARN, "com.amazonaws.ecs.task-definition-version": "7",
	} {
		if s.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, s.Labels[k], v)
		}
	}
	if _, ok := s.Labels["berth.driver.x"]; ok {
		t.Error("a driver-reserved docker label was passed through")
	}
	vols := splitList(s.Labels[LabelTaskVolumes])
	check("task volumes label", vols, []string{"ecs-shop-7-scratch-" + id, "ecs-shop-7-bare-" + id, "ecs-shop-7-tv-" + id})
	var scoped []string
	for _, v := range p.volumes {
		if v.taskScoped {
			scoped = append(scoped, v.name)
		}
	}
	check("task-scoped volumes", scoped, vols)
	if p.volumes[2].labels["k"] != "v" || p.volumes[2].labels[driver.LabelTaskARN] != task.ARN {
		t.Errorf("docker volume labels = %v", p.volumes[2].labels)
	}
}

func TestBuildPlanNetworkModes(t *testing.T) {
	task := newTask()
	web := ecs.ContainerDefinition{Name: "web", Image: "web", Memory: ptr(64),
		PortMappings: []ecs.PortMapping{{ContainerPort: ptr(8080), HostPort: ptr(8080), Protocol: "tcp"}},
		DNSServers:   []string{"1.1.1.1"}, ExtraHosts: []ecs.HostEntry{{Hostname: "a", IPAddress: "10.0.0.1"}}}
	side := ecs.ContainerDefinition{Name: "side", Image: "side", Memory: ptr(64),
		PortMappings: []ecs.PortMapping{{ContainerPort: ptr(9090), Protocol: "udp"}}}

	p, err := buildPlan(Config{Cluster: "c"}, TaskSpec{Task: task, Definition: &ecs.TaskDefinition{Family: "f", Revision: 1, NetworkMode: "awsvpc", ContainerDefinitions: []ecs.ContainerDefinition{web, side}}})
	if err != nil {
		t.Fatal(err)
	}
	want := &driver.TaskNetworkSpec{
		Name:   "berth-task-" + task.ID,
		Labels: map[string]string{driver.LabelTaskARN: task.ARN, driver.LabelCluster: "c"},
		PortMappings: []driver.PortMapping{
			{ContainerPort: 8080, HostPort: 8080, Protocol: "tcp"}, {ContainerPort: 9090, Protocol: "udp"},
		},
		DNSServers: []string{"1.1.1.1"},
		ExtraHosts: []driver.Host{{Hostname: "a", IPAddress: "10.0.0.1"}},
	}
	if !reflect.DeepEqual(p.network, want) {
		t.Errorf("network = %+v\nwant %+v", p.network, want)
	}
	if m := p.containers[1].spec.Network; m.Mode != driver.NetworkModeAWSVPC || len(m.PortMappings) != 1 {
		t.Errorf("side network = %+v", m)
	}

	p, err = buildPlan(Config{}, TaskSpec{Task: task, Definition: &ecs.TaskDefinition{Family: "f", Revision: 1, NetworkMode: "host", ContainerDefinitions: []ecs.ContainerDefinition{web}}})
	if err != nil {
		t.Fatal(err)
	}
	if hp := p.containers[0].hostPorts; len(hp) != 1 || hp[0].HostPort != 8080 || len(p.containers[0].spec.Network.PortMappings) != 0 {
		t.Errorf("host mode: bindings %+v, mappings %+v", hp, p.containers[0].spec.Network.PortMappings)
	}
}

func TestBuildPlanErrors(t *testing.T) {
	task := newTask()
	c := ecs.ContainerDefinition{Name: "web", Image: "web", Memory: ptr(64)}
	tests := []struct {
		name string
		td   *ecs.TaskDefinition
		want string
	}{
		{"no definition", nil, "task definition"},
		{"efs", &ecs.TaskDefinition{Family: "f", ContainerDefinitions: []ecs.ContainerDefinition{c},
			Volumes: []ecs.Volume{{Name: "e", EfsVolumeConfiguration: map[string]any{"fileSystemId": "fs-1"}}}}, "EFS"},
		{"unknown volume", &ecs.TaskDefinition{Family: "f", ContainerDefinitions: []ecs.ContainerDefinition{
			{Name: "web", Image: "web", MountPoints: []ecs.MountPoint{{SourceVolume: "nope", ContainerPath: "/x"}}}}}, "unknown volume"},
		{"unknown dependency", &ecs.TaskDefinition{Family: "f", ContainerDefinitions: []ecs.ContainerDefinition{
			{Name: "web", Image: "web", DependsOn: []ecs.ContainerDependency{{ContainerName: "db", Condition: "START"}}}}}, "unknown container"},
		{"bad mode", &ecs.TaskDefinition{Family: "f", NetworkMode: "nat", ContainerDefinitions: []ecs.ContainerDefinition{c}}, "network mode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := buildPlan(Config{}, TaskSpec{Task: task, Definition: tc.td})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "ResourceInitializationError: ") {
				t.Errorf("err = %v, want a ResourceInitializationError about %q", err, tc.want)
			}
		})
	}
}

func TestNames(t *testing.T) {
	if got := ContainerName("my_app", 12, "web", "abc"); got != "ecs-my_app-12-web-abc" {
		t.Errorf("ContainerName = %s", got)
	}
	if got := dockerName("a/b c:d"); got != "a-b-c-d" {
		t.Errorf("dockerName = %s", got)
	}
	if got := parseDependsOn("a:START,b:HEALTHY,,bad"); len(got) != 2 || got[1].Condition != "HEALTHY" {
		t.Errorf("parseDependsOn = %+v", got)
	}
}
