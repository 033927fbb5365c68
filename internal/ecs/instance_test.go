package ecs

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/fault"
)

func newInstance(t *testing.T, reg InstanceRegistration) *ContainerInstance {
	t.Helper()
	if reg.CPU == 0 {
		reg.CPU, reg.Memory = 2048, 4096
	}
	ci, err := NewContainerInstance(testScope, testCluster(), reg, "0123456789abcdef", testNow)
	if err != nil {
		t.Fatal(err)
	}
	return ci
}

func TestNewContainerInstance(t *testing.T) {
	ci := newInstance(t, InstanceRegistration{
		EC2InstanceID: "i-0abc", InstanceType: "t3.large", AvailabilityZone: "us-east-1a",
		VersionInfo: VersionInfo{AgentVersion: "1.80.0", DockerVersion: "25.0.0"},
		Attributes:  []Attribute{{Name: "team", Value: "blue"}, {Name: AttrOSType, Value: "override-me"}},
		Tags:        []Tag{{Key: "k", Value: "v"}},
	})
	if ci.ARN != "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/0123456789abcdef" || ci.ID != "0123456789abcdef" {
		t.Errorf("arn %s id %s", ci.ARN, ci.ID)
	}
	if ci.Status != InstanceActive || !ci.AgentConnected || ci.Version != 1 || !ci.RegisteredAt.Equal(testNow) || ci.ClusterARN != testCluster().ARN {
		t.Errorf("instance = %+v", ci)
	}
	if cpu, mem := ci.Remaining(); cpu != 2048 || mem != 4096 {
		t.Errorf("remaining %d/%d", cpu, mem)
	}
	tcp, udp := ci.UsedPorts()
	if !slices.Equal(tcp, []int{22, 2375, 2376, 51678, 51679}) || len(udp) != 0 {
		t.Errorf("ports %v %v", tcp, udp)
	}
	for name, want := range map[string]string{
		AttrOSType: "override-me", AttrOSFamily: "LINUX", AttrCPUArchitecture: "x86_64", AttrInstanceType: "t3.large",
		AttrAvailabilityZone: "us-east-1a", "team": "blue",
	} {
		if v, ok := ci.Attribute(name); !ok || v != want {
			t.Errorf("attribute %s = %q %v, want %q", name, v, ok, want)
		}
	}
	// Only what the agent advertised: no capability it did not send.
	if len(ci.Attributes) != 6 {
		t.Errorf("attributes beyond the defaults and the advertised ones: %v", ci.Attributes)
	}
	if !slices.IsSortedFunc(ci.Attributes, func(a, b Attribute) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("attributes not sorted")
	}
	// Registered and remaining resources do not share storage.
	ci.RemainingResources[2].StringSetValue[0] = "x"
	if ci.RegisteredResources[2].StringSetValue[0] == "x" {
		t.Error("remaining aliases registered")
	}

	for _, bad := range []InstanceRegistration{
		{CPU: -1, Memory: 10},
		{CPU: 10, Memory: -1},
		{CPU: 10, Memory: 10, Attributes: []Attribute{{Name: "bad name!"}}},
		{CPU: 10, Memory: 10, Attributes: []Attribute{{Name: "ok", Value: strings.Repeat("v", 129)}}},
		{CPU: 10, Memory: 10, ReservedPorts: []int{70000}},
		{CPU: 10, Memory: 10, Tags: []Tag{{Key: ""}}},
	} {
		if _, err := NewContainerInstance(testScope, testCluster(), bad, "x", testNow); fault.KindOf(err) != fault.InvalidParameter {
			t.Errorf("%+v: err %v", bad, err)
		}
	}
	arm := newInstance(t, InstanceRegistration{CPUArchitecture: "arm64"})
	if v, _ := arm.Attribute(AttrCPUArchitecture); v != "arm64" {
		t.Errorf("arch %s", v)
	}
	if _, ok := arm.Attribute(AttrInstanceType); ok {
		t.Error("instance type attribute without an instance type")
	}
}

func TestReserveRelease(t *testing.T) {
	ci := newInstance(t, InstanceRegistration{ReservedPortsUDP: []int{53}})
	v := ci.Version
	r := TaskResources{CPU: 512, Memory: 1024, TCPPorts: []int{8080}, UDPPorts: []int{5000}}
	if err := ci.Reserve(r); err != nil {
		t.Fatal(err)
	}
	if cpu, mem := ci.Remaining(); cpu != 1536 || mem != 3072 || ci.Version != v+1 {
		t.Errorf("remaining %d/%d version %d", cpu, mem, ci.Version)
	}
	tcp, udp := ci.UsedPorts()
	if !slices.Contains(tcp, 8080) || !slices.Equal(udp, []int{53, 5000}) {
		t.Errorf("used ports %v %v", tcp, udp)
	}
	cases := []struct {
		r    TaskResources
		want string
	}{
		{TaskResources{CPU: 1537}, ReasonCPU},
		{TaskResources{Memory: 3073}, ReasonMemory},
		{TaskResources{TCPPorts: []int{8080}}, ReasonPorts},
		{TaskResources{TCPPorts: []int{22}}, ReasonPorts},
		{TaskResources{TCPPorts: []int{9000, 9000}}, ReasonPorts},
		{TaskResources{UDPPorts: []int{53}}, ReasonPortsUDP},
		{TaskResources{UDPPorts: []int{5000}}, ReasonPortsUDP},
		{TaskResources{CPU: 1536, Memory: 3072, TCPPorts: []int{8081}, UDPPorts: []int{8080}}, ""},
	}
	for _, c := range cases {
		if got := ci.Fits(c.r); got != c.want {
			t.Errorf("Fits(%+v) = %q, want %q", c.r, got, c.want)
		}
	}
	before := ci.Version
	if err := ci.Reserve(TaskResources{CPU: 4096}); fault.KindOf(err) != fault.Conflict || !strings.Contains(err.Error(), ReasonCPU) || ci.Version != before {
		t.Errorf("over-reserve: %v", err)
	}
	ci.Release(r)
	if cpu, mem := ci.Remaining(); cpu != 2048 || mem != 4096 {
		t.Errorf("after release %d/%d", cpu, mem)
	}
	tcp, udp = ci.UsedPorts()
	if !slices.Equal(tcp, []int{22, 2375, 2376, 51678, 51679}) || !slices.Equal(udp, []int{53}) {
		t.Errorf("after release ports %v %v", tcp, udp)
	}
	// Releasing more than was reserved, or a reserved port, changes nothing beyond the registered state.
	ci.Release(TaskResources{CPU: 100, Memory: 100, TCPPorts: []int{22}, UDPPorts: []int{53}})
	if cpu, mem := ci.Remaining(); cpu != 2048 || mem != 4096 {
		t.Errorf("over-release %d/%d", cpu, mem)
	}
	if tcp, udp := ci.UsedPorts(); !slices.Contains(tcp, 22) || !slices.Contains(udp, 53) {
		t.Error("release freed a reserved port")
	}
	// An instance without remaining resources recorded still works.
	bare := &ContainerInstance{}
	if err := bare.Reserve(TaskResources{}); err != nil {
		t.Error(err)
	}
	bare.Release(TaskResources{CPU: 5})
}

func TestSatisfiesAttributes(t *testing.T) {
	ci := newInstance(t, InstanceRegistration{InstanceType: "t3.micro", Attributes: []Attribute{{Name: "gpu", Value: "yes"}}})
	cases := []struct {
		req  []Attribute
		want bool
	}{
		{nil, true},
		{[]Attribute{{Name: "ecs.capability.task-eni"}}, false},
		{[]Attribute{{Name: "gpu"}}, true},
		{[]Attribute{{Name: "gpu", Value: "yes"}, {Name: AttrInstanceType, Value: "t3.micro"}}, true},
		{[]Attribute{{Name: "gpu", Value: "no"}}, false},
		{[]Attribute{{Name: "ecs.capability.fpga"}}, false},
	}
	for _, c := range cases {
		if got := ci.SatisfiesAttributes(c.req); got != c.want {
			t.Errorf("SatisfiesAttributes(%v) = %v", c.req, got)
		}
	}
	if a, missing := ci.MissingAttribute([]Attribute{{Name: "gpu"}, {Name: "zzz"}}); !missing || a.Name != "zzz" {
		t.Errorf("MissingAttribute = %v %v", a, missing)
	}
	v := ci.Version
	if err := ci.PutAttributes([]Attribute{{Name: "gpu", Value: "no"}, {Name: "rack", Value: "r1"}}); err != nil || ci.Version != v+1 {
		t.Fatal(err)
	}
	if val, _ := ci.Attribute("gpu"); val != "no" {
		t.Errorf("gpu = %s", val)
	}
	if err := ci.PutAttributes([]Attribute{{Name: ""}}); err == nil {
		t.Error("empty attribute name accepted")
	}
	ci.DeleteAttributes([]string{"rack", "never"})
	if _, ok := ci.Attribute("rack"); ok {
		t.Error("rack not deleted")
	}
	if !ci.Schedulable() {
		t.Error("fresh instance not schedulable")
	}
	ci.Status = InstanceDraining
	if ci.Schedulable() {
		t.Error("draining instance schedulable")
	}
}

// Every attribute a task definition can require is one berth's agent
// advertises (except logging drivers berth does not know).
func TestBerthCapabilitiesCoverRequired(t *testing.T) {
	td := prepared(t, &TaskDefinition{
		Family: "all", NetworkMode: NetworkAwsvpc, TaskRoleARN: "arn:aws:iam::1:role/t", ExecutionRoleARN: "arn:aws:iam::1:role/e",
		ContainerDefinitions: []ContainerDefinition{{
			Name: "a", Image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1", Memory: intp(128),
			LogConfiguration: &LogConfiguration{LogDriver: "awslogs"},
			HealthCheck:      &HealthCheck{Command: []string{"CMD-SHELL", "true"}},
			Secrets:          []Secret{{Name: "S", ValueFrom: "arn:aws:secretsmanager:us-east-1:1:secret:s"}, {Name: "P", ValueFrom: "arn:aws:ssm:us-east-1:1:parameter/p"}},
			DockerLabels:     map[string]string{"a": "b"},
			StopTimeout:      intp(10),
			DependsOn:        []ContainerDependency{{ContainerName: "b", Condition: "START"}},
		}, {Name: "b", Image: "b", Memory: intp(128), LogConfiguration: &LogConfiguration{LogDriver: "json-file"}}},
	})
	ci := newInstance(t, InstanceRegistration{Attributes: BerthAgentCapabilities("", true)})
	if a, missing := ci.MissingAttribute(td.RequiresAttributes); missing {
		t.Errorf("instance lacks %s (required: %v)", a.Name, td.RequiresAttributes)
	}
}

func TestResourcesFor(t *testing.T) {
	bridge := bridgeTD(t) // app 256 cpu / 512 memory, sidecar 128 cpu / 64 reservation; ports 8080 static, 81 dynamic
	r, err := ResourcesFor(bridge, nil)
	if err != nil || r.CPU != 384 || r.Memory != 576 || !slices.Equal(r.TCPPorts, []int{8080}) || len(r.UDPPorts) != 0 {
		t.Errorf("bridge: %+v %v", r, err)
	}
	host := prepared(t, &TaskDefinition{Family: "h", NetworkMode: NetworkHost, CPU: "1024", Memory: "2048",
		ContainerDefinitions: []ContainerDefinition{{Name: "a", Image: "a", PortMappings: []PortMapping{
			{ContainerPort: intp(53), Protocol: "udp"}, {ContainerPort: intp(443)},
		}}}})
	r, err = ResourcesFor(host, nil)
	if err != nil || r.CPU != 1024 || r.Memory != 2048 || !slices.Equal(r.TCPPorts, []int{443}) || !slices.Equal(r.UDPPorts, []int{53}) {
		t.Errorf("host: %+v %v", r, err)
	}
	r, err = ResourcesFor(fargateTD(t), nil)
	if err != nil || r.CPU != 512 || r.Memory != 1024 || len(r.TCPPorts) != 0 {
		t.Errorf("awsvpc: %+v %v", r, err)
	}
	r, err = ResourcesFor(bridge, &TaskOverride{ContainerOverrides: []ContainerOverride{{Name: "sidecar", CPU: intp(0), MemoryReservation: intp(32)}}})
	if err != nil || r.CPU != 256 || r.Memory != 544 {
		t.Errorf("with overrides: %+v %v", r, err)
	}
	if _, err := ResourcesFor(bridge, &TaskOverride{CPU: "nope"}); err == nil {
		t.Error("bad override accepted")
	}
}

func TestContainerInstanceJSON(t *testing.T) {
	ci := newInstance(t, InstanceRegistration{EC2InstanceID: "i-1"})
	b, err := json.Marshal(ci)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"containerInstanceArn":`, `"ec2InstanceId":"i-1"`, `"status":"ACTIVE"`, `"agentConnected":true`,
		`"registeredResources":[{"name":"CPU","type":"INTEGER","integerValue":2048`, `"stringSetValue":["22","2375","2376","51678","51679"]`,
		`"registeredAt":"2025-03-01T12:00:00Z"`, `"runningTasksCount":0`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
	var back ContainerInstance
	if err := json.Unmarshal(b, &back); err != nil || back.ID != ci.ID || back.ARN != ci.ARN || len(back.Attributes) != len(ci.Attributes) {
		t.Errorf("round trip: %v %+v", err, back)
	}
}
