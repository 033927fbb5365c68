package ecs

import (
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
