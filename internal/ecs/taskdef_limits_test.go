package ecs

import (
	"fmt"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/fault"
)

func TestPrepareTaskDefinitionTaskSizeAndRestartPolicy(t *testing.T) {
	base := func() *TaskDefinition {
		return &TaskDefinition{Family: "f", CPU: "512", Memory: "1024", ContainerDefinitions: []ContainerDefinition{
			{Name: "a", Image: "busybox", CPU: 256, MemoryReservation: intp(512), Memory: intp(1024)},
			{Name: "b", Image: "busybox", CPU: 256, Memory: intp(512)},
		}}
	}
	if err := PrepareTaskDefinition(base()); err != nil {
		t.Fatalf("definition at the task's size refused: %v", err)
	}
	cases := map[string]struct {
		mutate func(td *TaskDefinition)
		msg    string
	}{
		"cpu sum": {func(td *TaskDefinition) { td.ContainerDefinitions[1].CPU = 257 },
			"The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'."},
		"reservation sum": {func(td *TaskDefinition) { td.ContainerDefinitions[1].Memory = intp(513) },
			"The sum of all container 'memoryReservation' values cannot be greater than the value of the task 'memory'."},
		"ignored exit codes": {func(td *TaskDefinition) {
			td.ContainerDefinitions[0].RestartPolicy = &RestartPolicy{Enabled: true, IgnoredExitCodes: make([]int, 51)}
		}, "at most 50 exit codes"},
		"period too short": {func(td *TaskDefinition) {
			td.ContainerDefinitions[0].RestartPolicy = &RestartPolicy{Enabled: true, RestartAttemptPeriod: intp(59)}
		}, "'restartAttemptPeriod' must be between 60 and 1800 seconds"},
		"period too long": {func(td *TaskDefinition) {
			td.ContainerDefinitions[0].RestartPolicy = &RestartPolicy{Enabled: true, RestartAttemptPeriod: intp(1801)}
		}, "'restartAttemptPeriod' must be between 60 and 1800 seconds"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			td := base()
			c.mutate(td)
			err := PrepareTaskDefinition(td)
			if !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want a ClientException saying %q", err, c.msg)
			}
		})
	}
	// Without a task size, the containers' sums are unbounded; a valid
	// restart policy is kept as given.
	td := base()
	td.CPU, td.Memory = "", ""
	td.ContainerDefinitions[0].RestartPolicy = &RestartPolicy{Enabled: true, IgnoredExitCodes: []int{0}, RestartAttemptPeriod: intp(60)}
	td.ContainerDefinitions[1].CPU = 4096
	if err := PrepareTaskDefinition(td); err != nil {
		t.Fatalf("refused: %v", err)
	}
	if rp := td.ContainerDefinitions[0].RestartPolicy; !rp.Enabled || *rp.RestartAttemptPeriod != 60 || len(rp.IgnoredExitCodes) != 1 {
		t.Errorf("restart policy = %+v", rp)
	}
}

func TestPrepareTaskDefinitionLimits(t *testing.T) {
	fargate := func() *TaskDefinition {
		return &TaskDefinition{Family: "f", CPU: "256", Memory: "512", NetworkMode: NetworkAwsvpc,
			RequiresCompatibilities: []string{LaunchFargate},
			ContainerDefinitions:    []ContainerDefinition{{Name: "a", Image: "busybox"}}}
	}
	ec2 := func() *TaskDefinition {
		return &TaskDefinition{Family: "f", ContainerDefinitions: []ContainerDefinition{{Name: "a", Image: "busybox", Memory: intp(128)}}}
	}
	big := make([]KeyValuePair, 0, 700)
	for i := range cap(big) {
		big = append(big, KeyValuePair{Name: fmt.Sprintf("VAR_%04d", i), Value: strings.Repeat("x", 80)})
	}
	cases := map[string]struct {
		td  func() *TaskDefinition
		msg string // "" means accepted
	}{
		"ephemeral 21": {func() *TaskDefinition {
			td := fargate()
			td.EphemeralStorage = &EphemeralStorage{SizeInGiB: 21}
			return td
		}, ""},
		"ephemeral 200": {func() *TaskDefinition {
			td := fargate()
			td.EphemeralStorage = &EphemeralStorage{SizeInGiB: 200}
			return td
		}, ""},
		"ephemeral 20": {func() *TaskDefinition {
			td := fargate()
			td.EphemeralStorage = &EphemeralStorage{SizeInGiB: 20}
			return td
		},
			"Invalid 'ephemeralStorage.sizeInGiB' setting for task: 20. The minimum supported value is 21 GiB and the maximum supported value is 200 GiB."},
		"ephemeral 201": {func() *TaskDefinition {
			td := fargate()
			td.EphemeralStorage = &EphemeralStorage{SizeInGiB: 201}
			return td
		},
			"Invalid 'ephemeralStorage.sizeInGiB' setting for task: 201."},
		"ephemeral 0": {func() *TaskDefinition { td := fargate(); td.EphemeralStorage = &EphemeralStorage{}; return td },
			"Invalid 'ephemeralStorage.sizeInGiB' setting for task: 0."},
		"over 64 KiB": {func() *TaskDefinition { td := ec2(); td.ContainerDefinitions[0].Environment = big; return td },
			"Max allowed length is '65536' bytes."},
		"just under 64 KiB": {func() *TaskDefinition { td := ec2(); td.ContainerDefinitions[0].Environment = big[:560]; return td }, ""},
		"container memory beyond Integer": {func() *TaskDefinition { td := ec2(); td.ContainerDefinitions[0].Memory = intp(1 << 40); return td },
			"Invalid 'memory' setting for container 'a'. The value must be at most 2147483647 MiB."},
		"container reservation beyond Integer": {func() *TaskDefinition {
			td := ec2()
			td.ContainerDefinitions[0].Memory, td.ContainerDefinitions[0].MemoryReservation = nil, intp(1<<31)
			return td
		}, "Invalid 'memoryReservation' setting for container 'a'."},
		"container cpu beyond Integer": {func() *TaskDefinition { td := ec2(); td.ContainerDefinitions[0].CPU = 1 << 31; return td },
			"Invalid 'cpu' setting for container 'a'."},
		"container memory above the task's": {func() *TaskDefinition { td := fargate(); td.ContainerDefinitions[0].Memory = intp(1024); return td },
			"The 'memory' setting for container 'a' is greater than for the task."},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := PrepareTaskDefinition(c.td())
			switch {
			case c.msg == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.msg != "" && (!fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), c.msg)):
				t.Fatalf("got %v, want a ClientException saying %q", err, c.msg)
			}
		})
	}
}
