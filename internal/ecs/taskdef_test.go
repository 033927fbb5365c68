package ecs

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/fault"
)

func TestFargateSizes(t *testing.T) {
	cases := []struct {
		cpu, mem int
		ok       bool
	}{
		{256, 512, true}, {256, 3072, false}, {512, 4096, true}, {512, 5120, false},
		{1024, 2048, true}, {1024, 1024, false}, {4096, 30720, true}, {8192, 20480, true},
		{8192, 18432, false}, {16384, 122880, true}, {300, 512, false},
	}
	for _, c := range cases {
		if got := FargateSizeValid(c.cpu, c.mem); got != c.ok {
			t.Errorf("FargateSizeValid(%d, %d) = %v", c.cpu, c.mem, got)
		}
	}
}

func TestParseCPUAndMemory(t *testing.T) {
	for in, want := range map[string]int{"512": 512, "1 vCPU": 1024, ".5 vcpu": 512, "0.25 vCPU": 256} {
		if got, err := ParseCPU(in); err != nil || got != want {
			t.Errorf("ParseCPU(%q) = %d, %v", in, got, err)
		}
	}
	for in, want := range map[string]int{"1024": 1024, "2 GB": 2048, "0.5gb": 512} {
		if got, err := ParseMemory(in); err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %d, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "x", "-1", "vCPU"} {
		if _, err := ParseCPU(bad); bad != "" && err == nil {
			t.Errorf("ParseCPU(%q) accepted", bad)
		}
	}
}

func TestPrepareTaskDefinitionDefaults(t *testing.T) {
	td := &TaskDefinition{
		Family: "f", CPU: "1 vCPU", Memory: "2 GB", NetworkMode: NetworkAwsvpc,
		RequiresCompatibilities: []string{LaunchFargate},
		ContainerDefinitions: []ContainerDefinition{{
			Name: "web", Image: "busybox",
			PortMappings: []PortMapping{{ContainerPort: intp(80)}},
			HealthCheck:  &HealthCheck{Command: []string{"CMD", "true"}},
		}},
	}
	if err := PrepareTaskDefinition(td); err != nil {
		t.Fatal(err)
	}
	c := td.ContainerDefinitions[0]
	if td.CPU != "1024" || td.Memory != "2048" {
		t.Errorf("normalized cpu/memory = %s/%s", td.CPU, td.Memory)
	}
	if !*c.Essential || *c.PortMappings[0].HostPort != 80 || c.PortMappings[0].Protocol != "tcp" {
		t.Errorf("container defaults: %+v", c)
	}
	if *c.HealthCheck.Interval != 30 || *c.HealthCheck.Timeout != 5 || *c.HealthCheck.Retries != 3 {
		t.Errorf("health check defaults: %+v", c.HealthCheck)
	}
	if strings.Join(td.Compatibilities, ",") != "EC2,FARGATE" {
		t.Errorf("compatibilities = %v", td.Compatibilities)
	}
}

func TestPrepareTaskDefinitionRejects(t *testing.T) {
	base := func() *TaskDefinition {
		return &TaskDefinition{Family: "f", ContainerDefinitions: []ContainerDefinition{
			{Name: "a", Image: "busybox", Memory: intp(64)},
			{Name: "b", Image: "busybox", Memory: intp(64)},
		}}
	}
	cases := map[string]func(td *TaskDefinition){
		"no essential container": func(td *TaskDefinition) {
			f := false
			td.ContainerDefinitions[0].Essential, td.ContainerDefinitions[1].Essential = &f, &f
		},
		"dependency cycle": func(td *TaskDefinition) {
			td.ContainerDefinitions[0].DependsOn = []ContainerDependency{{ContainerName: "b", Condition: "START"}}
			td.ContainerDefinitions[1].DependsOn = []ContainerDependency{{ContainerName: "a", Condition: "START"}}
		},
		"unknown volume": func(td *TaskDefinition) {
			td.ContainerDefinitions[0].MountPoints = []MountPoint{{SourceVolume: "v", ContainerPath: "/data"}}
		},
		"duplicate host port": func(td *TaskDefinition) {
			for i := range td.ContainerDefinitions {
				td.ContainerDefinitions[i].PortMappings = []PortMapping{{ContainerPort: intp(80), HostPort: intp(8080)}}
			}
		},
		"reservation above limit": func(td *TaskDefinition) { td.ContainerDefinitions[0].MemoryReservation = intp(128) },
		"bad health check": func(td *TaskDefinition) {
			td.ContainerDefinitions[0].HealthCheck = &HealthCheck{Command: []string{"curl"}}
		},
		"bad network mode": func(td *TaskDefinition) { td.NetworkMode = "nat" },
		"too many containers": func(td *TaskDefinition) {
			for range 9 {
				td.ContainerDefinitions = append(td.ContainerDefinitions, ContainerDefinition{Name: "x" + string(rune('a'+len(td.ContainerDefinitions))), Image: "i", Memory: intp(8)})
			}
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			td := base()
			mutate(td)
			err := PrepareTaskDefinition(td)
			if !fault.Is(err, fault.Invalid) {
				t.Fatalf("got %v, want a ClientException-kind error", err)
			}
		})
	}
	if err := PrepareTaskDefinition(base()); err != nil {
		t.Fatalf("base definition refused: %v", err)
	}
}
