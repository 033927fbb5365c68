package ecsstore

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store"
)

var update = flag.Bool("update", false, "rewrite testdata/records from the expected values")

func ptr[T any](v T) *T { return &v }

// recordKind is one stored kind: its codec, a sample domain value and the
// golden file of its stored form.
type recordKind struct {
	name   string
	sample any // a pointer to the domain value
	encode func(any) []byte
	decode func(store.KV) (any, error)
}

func recordKinds() []recordKind {
	return []recordKind{
		{"task", goldenTask(), func(v any) []byte { return encodeTask(v.(*ecs.Task)) },
			func(kv store.KV) (any, error) { return decodeTask(kv) }},
		{"instance", goldenInstance(), func(v any) []byte { return encodeInstance(v.(*ecs.ContainerInstance)) },
			func(kv store.KV) (any, error) { return decodeInstance(kv) }},
		{"cluster", goldenCluster(), func(v any) []byte { return encodeCluster(v.(*ecs.Cluster)) },
			func(kv store.KV) (any, error) { return decodeCluster(kv) }},
		{"task-definition", goldenTaskDefinition(), func(v any) []byte { return encodeTaskDefinition(v.(*ecs.TaskDefinition)) },
			func(kv store.KV) (any, error) { return decodeTaskDefinition(kv) }},
		{"service", goldenService(), func(v any) []byte { return encodeService(v.(*ecs.Service)) },
			func(kv store.KV) (any, error) { return DecodeService(kv) }},
		{"tags", &[]ecs.Tag{{Key: "team", Value: "shop"}, {Key: "env", Value: ""}}, func(v any) []byte { return encodeTags(*v.(*[]ecs.Tag)) },
			func(kv store.KV) (any, error) { return decodeTags(kv) }},
	}
}

// TestRecordGolden: the checked-in record of each kind decodes to the
// expected domain value, and that value encodes to exactly the checked-in
// record: a change of the stored format (a field renamed, dropped or
// added, in a record or through a domain type) fails here. Rewrite the
// files with -update only for a deliberate format change.
func TestRecordGolden(t *testing.T) {
	for _, k := range recordKinds() {
		t.Run(k.name, func(t *testing.T) {
			path := filepath.Join("testdata", "records", k.name+".json")
			var enc bytes.Buffer
			if err := json.Indent(&enc, k.encode(k.sample), "", "  "); err != nil {
				t.Fatal(err)
			}
			enc.WriteByte('\n')
			if *update {
				if err := os.WriteFile(path, enc.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			golden, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := k.decode(store.KV{Key: path, Value: golden})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, k.sample) {
				t.Errorf("%s decodes to\n %+v\nwant\n %+v", path, got, k.sample)
			}
			if !bytes.Equal(enc.Bytes(), golden) {
				t.Errorf("the sample encodes to\n%s\nnot %s:\n%s", enc.Bytes(), path, golden)
			}
		})
	}
}

// TestRecordRoundTripEveryField fills every stored field of each domain
// type (by reflection, to the leaves) and requires the value to come back
// whole through its record: a field added to a domain type and not mapped
// to its record fails here.
func TestRecordRoundTripEveryField(t *testing.T) {
	for _, k := range recordKinds() {
		t.Run(k.name, func(t *testing.T) {
			v := reflect.New(reflect.TypeOf(k.sample).Elem())
			n := 0
			fill(v.Elem(), &n)
			want := v.Interface()
			switch w := want.(type) {
			case *ecs.Task:
				w.ID = ecs.TaskIDFromARN(w.ARN)
			case *ecs.ContainerInstance:
				w.ID = lastSegment(w.ARN)
			}
			got, err := k.decode(store.KV{Key: "k", Value: k.encode(want)})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip lost fields:\n got  %+v\n want %+v", got, want)
			}
		})
	}
}

// fill sets every exported field that is stored (not json:"-") to a
// distinct non-zero value; slices and maps get one element.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", *n))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Float64:
		v.SetFloat(float64(*n) + 0.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), n)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		key := reflect.New(v.Type().Key()).Elem()
		fill(key, n)
		val := reflect.New(v.Type().Elem()).Elem()
		if val.Kind() == reflect.Interface {
			val.Set(reflect.ValueOf(fmt.Sprintf("s%d", *n)))
		} else {
			fill(val, n)
		}
		m.SetMapIndex(key, val)
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, *n, time.UTC)))
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.IsExported() && f.Tag.Get("json") != "-" {
				fill(v.Field(i), n)
			}
		}
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}

var goldenScope = ecs.Scope{Account: "123456789012", Region: "eu-west-1"}

func goldenTask() *ecs.Task {
	const id = "0192f3a4b5c6d7e8f90a1b2c3d4e5f60"
	arn := goldenScope.TaskARN("shop", id)
	at := func(s int) time.Time { return time.Date(2026, 3, 4, 5, 6, s, 0, time.UTC) }
	return &ecs.Task{
		ARN: arn, ID: id, ClusterARN: goldenScope.ClusterARN("shop"), TaskDefinitionARN: goldenScope.TaskDefinitionARN("web", 3),
		ContainerInstanceARN: goldenScope.ContainerInstanceARN("shop", "5f0c1e7ad2b94c3f8e6a1b2c3d4e5f60"),
		LaunchType:           ecs.LaunchEC2, Group: "family:web", StartedBy: "ecs-svc/1234", LastStatus: ecs.TaskStopped, DesiredStatus: ecs.TaskStopped,
		HealthStatus: ecs.HealthUnknown, CPU: "256", Memory: "512",
		Containers: []ecs.Container{{
			ContainerARN: goldenScope.ContainerARN("shop", id, "8c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e"), TaskARN: arn,
			Name: "app", Image: "busybox:static", ImageDigest: "sha256:0123", RuntimeID: "f00dfeed", LastStatus: ecs.ContainerStopped,
			ExitCode: ptr(137), Reason: "OutOfMemoryError", HealthStatus: ecs.HealthUnknown,
			NetworkBindings:   []ecs.NetworkBinding{{BindIP: "0.0.0.0", ContainerPort: 80, HostPort: 32768, Protocol: "tcp"}},
			NetworkInterfaces: []ecs.NetworkInterface{},
			CPU:               "256", Memory: "512", Essential: true,
		}},
		Overrides: ecs.TaskOverride{
			ContainerOverrides:            []ecs.ContainerOverride{{Name: "app", Command: []string{"serve", "--port=80"}, Environment: []ecs.KeyValuePair{{Name: "MODE", Value: "blue"}}, Memory: ptr(512)}},
			InferenceAcceleratorOverrides: []ecs.InferenceAcceleratorOverride{},
		},
		Attachments: []ecs.Attachment{},
		CreatedAt:   at(0), PullStartedAt: at(1), PullStoppedAt: at(2), StartedAt: at(3), StoppingAt: at(40), StoppedAt: at(42), ExecutionStoppedAt: at(41),
		StopCode: ecs.StopEssentialContainerExited, StoppedReason: ecs.EssentialContainerExitedReason, Version: 5,
		AvailabilityZone: "eu-west-1a", Connectivity: ecs.ConnectivityConnected, ConnectivityAt: at(1),
	}
}

func goldenInstance() *ecs.ContainerInstance {
	const id = "5f0c1e7ad2b94c3f8e6a1b2c3d4e5f60"
	return &ecs.ContainerInstance{
		ARN: goldenScope.ContainerInstanceARN("shop", id), ID: id, EC2InstanceID: "i-0123456789abcdef0", ClusterARN: goldenScope.ClusterARN("shop"),
		Status: ecs.InstanceActive, AgentDisconnectedAt: time.Date(2026, 3, 4, 5, 30, 0, 0, time.UTC),
		RegisteredResources: []ecs.Resource{
			{Name: ecs.ResourceCPU, Type: ecs.ResourceTypeInteger, IntegerValue: 2048},
			{Name: ecs.ResourceMemory, Type: ecs.ResourceTypeInteger, IntegerValue: 3928},
			{Name: ecs.ResourcePorts, Type: ecs.ResourceTypeStringSet, StringSetValue: []string{"22", "2375", "2376", "51678", "51679"}},
		},
		RemainingResources: []ecs.Resource{{Name: ecs.ResourceCPU, Type: ecs.ResourceTypeInteger, IntegerValue: 1792}},
		Attributes: []ecs.Attribute{
			{Name: "ecs.availability-zone", Value: "eu-west-1a"},
			{Name: "com.amazonaws.ecs.capability.docker-remote-api.1.41"},
			{Name: "stack", Value: "prod", TargetType: "container-instance", TargetID: id},
		},
		VersionInfo:       ecs.VersionInfo{AgentVersion: "1.105.1", AgentHash: "4c5d6e7f", DockerVersion: "DockerVersion: 27.5.1"},
		RunningTasksCount: 1, PendingTasksCount: 0,
		RegisteredAt: time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC), Version: 12,
		Tags: []ecs.Tag{{Key: "team", Value: "shop"}},
	}
}

func goldenCluster() *ecs.Cluster {
	return &ecs.Cluster{
		Name: "shop", ARN: goldenScope.ClusterARN("shop"), Status: ecs.ClusterActive, CreatedAt: time.Date(2026, 3, 4, 4, 0, 0, 0, time.UTC),
		Settings: []ecs.ClusterSetting{{Name: "containerInsights", Value: "disabled"}},
		Configuration: &ecs.ClusterConfiguration{
			ExecuteCommandConfiguration: &ecs.ExecuteCommandConfiguration{Logging: "OVERRIDE", LogConfiguration: &ecs.ExecuteCommandLogConfiguration{
				CloudWatchLogGroupName: "/ecs/exec", CloudWatchEncryptionEnabled: ptr(true),
			}},
		},
		CapacityProviders:               []string{"FARGATE", "FARGATE_SPOT"},
		DefaultCapacityProviderStrategy: []ecs.CapacityProviderStrategy{{CapacityProvider: "FARGATE", Weight: 1, Base: 1}},
		ServiceConnectDefaults:          &ecs.ServiceConnectDefaults{Namespace: "arn:aws:servicediscovery:eu-west-1:123456789012:namespace/ns-1"},
	}
}

func goldenTaskDefinition() *ecs.TaskDefinition {
	return &ecs.TaskDefinition{
		Family: "web", Revision: 3, ARN: goldenScope.TaskDefinitionARN("web", 3), Status: ecs.TaskDefActive,
		ContainerDefinitions: []ecs.ContainerDefinition{
			{
				Name: "db", Image: "busybox:static", CPU: 128, MemoryReservation: ptr(64), Essential: ptr(false),
				PortMappings:   []ecs.PortMapping{},
				Command:        []string{"sh", "-c", "touch /ready; sleep 3600"},
				Environment:    []ecs.KeyValuePair{},
				MountPoints:    []ecs.MountPoint{{SourceVolume: "data", ContainerPath: "/data"}},
				VolumesFrom:    []ecs.VolumeFrom{},
				DockerLabels:   map[string]string{"com.example.role": "db"},
				HealthCheck:    &ecs.HealthCheck{Command: []string{"CMD-SHELL", "test -f /ready"}, Interval: ptr(5), Timeout: ptr(3), Retries: ptr(2), StartPeriod: ptr(1)},
				SystemControls: []ecs.SystemControl{},
			},
			{
				Name: "app", Image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1", CPU: 256, Memory: ptr(256), MemoryReservation: ptr(128),
				RepositoryCredentials: &ecs.RepositoryCredentials{CredentialsParameter: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:creds"},
				EntryPoint:            []string{"/bin/sh", "-c"}, Command: []string{"exec app"},
				Environment:      []ecs.KeyValuePair{{Name: "B", Value: "2"}, {Name: "A", Value: "1"}},
				EnvironmentFiles: []ecs.EnvironmentFile{{Value: "arn:aws:s3:::bucket/app.env", Type: "s3"}},
				PortMappings:     []ecs.PortMapping{{ContainerPort: ptr(8080), HostPort: ptr(0), Protocol: "tcp", Name: "http", AppProtocol: "http"}},
				Links:            []string{"db:database"},
				MountPoints:      []ecs.MountPoint{{SourceVolume: "logs", ContainerPath: "/logs", ReadOnly: ptr(true)}},
				VolumesFrom:      []ecs.VolumeFrom{{SourceContainer: "db", ReadOnly: ptr(true)}},
				DependsOn:        []ecs.ContainerDependency{{ContainerName: "db", Condition: "HEALTHY"}},
				Privileged:       ptr(false), ReadonlyRootFilesystem: ptr(true), User: "1000", WorkingDirectory: "/srv", Hostname: "app",
				Secrets:          []ecs.Secret{{Name: "TOKEN", ValueFrom: "/shop/token"}},
				Ulimits:          []ecs.Ulimit{{Name: "nofile", SoftLimit: 1024, HardLimit: 4096}},
				LogConfiguration: &ecs.LogConfiguration{LogDriver: "json-file", Options: map[string]string{"max-size": "10m"}},
				RestartPolicy:    &ecs.RestartPolicy{Enabled: true, IgnoredExitCodes: []int{0}, RestartAttemptPeriod: ptr(60)},
				StopTimeout:      ptr(20), StartTimeout: ptr(30),
				DNSServers: []string{"10.0.0.2"}, ExtraHosts: []ecs.HostEntry{{Hostname: "api.local", IPAddress: "10.0.0.9"}},
				LinuxParameters: &ecs.LinuxParameters{
					Capabilities: &ecs.KernelCapabilities{Add: []string{"NET_ADMIN"}, Drop: []string{"MKNOD"}}, InitProcessEnabled: ptr(true),
					Devices: []ecs.Device{{HostPath: "/dev/fuse", Permissions: []string{"read", "write"}}},
					Tmpfs:   []ecs.Tmpfs{{ContainerPath: "/run", Size: 64, MountOptions: []string{"noexec"}}}, MaxSwap: ptr(512), Swappiness: ptr(10),
				},
				SystemControls:       []ecs.SystemControl{{Namespace: "net.core.somaxconn", Value: "1024"}},
				ResourceRequirements: []ecs.ResourceRequirement{{Type: "GPU", Value: "1"}},
			},
		},
		TaskRoleARN: "arn:aws:iam::123456789012:role/web", ExecutionRoleARN: "arn:aws:iam::123456789012:role/exec", NetworkMode: ecs.NetworkBridge,
		Volumes: []ecs.Volume{
			{Name: "logs", Host: &ecs.HostVolumeProperties{SourcePath: "/var/log/web"}},
			{Name: "data", DockerVolumeConfiguration: &ecs.DockerVolumeConfiguration{Scope: "shared", Autoprovision: ptr(true), Driver: "local", Labels: map[string]string{"tier": "db"}}},
		},
		PlacementConstraints:    []ecs.PlacementConstraint{{Type: "memberOf", Expression: "attribute:stack == prod"}},
		RequiresCompatibilities: []string{ecs.LaunchEC2}, Compatibilities: []string{ecs.LaunchEC2, ecs.LaunchExternal},
		RequiresAttributes: []ecs.Attribute{{Name: "com.amazonaws.ecs.capability.docker-remote-api.1.18"}},
		CPU:                "384", Memory: "512", PidMode: "task",
		RuntimePlatform: &ecs.RuntimePlatform{CPUArchitecture: "X86_64", OperatingSystemFamily: "LINUX"},
		RegisteredAt:    time.Date(2026, 3, 4, 4, 30, 0, 0, time.UTC), RegisteredBy: "arn:aws:iam::123456789012:root",
	}
}

func goldenService() *ecs.Service {
	at := func(m int) time.Time { return time.Date(2026, 3, 4, 6, m, 0, 0, time.UTC) }
	primary := ecs.Deployment{
		ID: "ecs-svc/4817356512745873312", Status: "PRIMARY", TaskDefinition: goldenScope.TaskDefinitionARN("web", 3),
		DesiredCount: 3, PendingCount: 1, RunningCount: 2, CreatedAt: at(10), UpdatedAt: at(12),
		LaunchType: ecs.LaunchEC2, RolloutState: "IN_PROGRESS", RolloutStateReason: "ECS deployment ecs-svc/4817356512745873312 in progress.",
	}
	stable := primary
	stable.ID, stable.Status, stable.TaskDefinition, stable.RolloutState, stable.RolloutStateReason = "ecs-svc/1190218426158329112", "ACTIVE", goldenScope.TaskDefinitionARN("web", 2), "COMPLETED", ""
	return &ecs.Service{
		ARN: goldenScope.ARN("service/shop/web"), Name: "web", ClusterARN: goldenScope.ClusterARN("shop"),
		LoadBalancers: []ecs.LoadBalancer{{TargetGroupARN: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef", ContainerName: "app", ContainerPort: ptr(8080)}},
		Status:        ecs.ServiceActive, DesiredCount: 3, RunningCount: 2, PendingCount: 1, LaunchType: ecs.LaunchEC2,
		TaskDefinition: goldenScope.TaskDefinitionARN("web", 3),
		DeploymentConfiguration: ecs.DeploymentConfiguration{
			DeploymentCircuitBreaker: &ecs.DeploymentCircuitBreaker{Enable: true, Rollback: true},
			MaximumPercent:           ptr(200), MinimumHealthyPercent: ptr(100), Strategy: ecs.DeploymentStrategyRolling,
		},
		Deployments:                   []ecs.Deployment{primary, stable},
		Events:                        []ecs.ServiceEvent{{ID: "6e1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", CreatedAt: at(11), Message: "(service web) has started 1 tasks: (task 0192f3a4b5c6d7e8f90a1b2c3d4e5f60)."}},
		CreatedAt:                     at(0),
		PlacementStrategy:             []ecs.PlacementStrategy{{Type: ecs.StrategySpread, Field: "attribute:ecs.availability-zone"}},
		HealthCheckGracePeriodSeconds: ptr(30), SchedulingStrategy: ecs.SchedulingReplica,
		DeploymentController: ecs.DeploymentController{Type: ecs.DeploymentControllerECS},
		CreatedBy:            "arn:aws:iam::123456789012:root", PropagateTags: "SERVICE", ClientToken: "create-web-1",
		ServiceDeployments: []ecs.ServiceDeployment{{DeploymentID: "ecs-svc/5316398475098174566",
			SourceTaskDefinitions: []string{"arn:aws:ecs:eu-west-1:123456789012:task-definition/web:1"},
			TargetTaskDefinition:  "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:2", Status: ecs.SDRollbackSuccessful,
			StatusReason: "ECS deployment circuit breaker: tasks failed to start.", CreatedAt: at(12), StartedAt: at(12),
			FinishedAt: at(14), UpdatedAt: at(14), DeploymentConfiguration: ecs.DeploymentConfiguration{Strategy: "ROLLING"},
			RollbackReason: "ECS deployment circuit breaker: tasks failed to start.", RollbackStartedAt: at(13),
			RollbackTo: "ecs-svc/1234567890123456789", FailureCount: 3}},
		Stable: &stable, Noted: []string{"steady"},
	}
}
