package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-dev/berth/internal/awslogs"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/logs"
	"github.com/berth-dev/berth/internal/runner"
)

// logsTarget is the X-Amz-Target prefix of CloudWatch Logs.
const logsTarget = "Logs_20140328"

// logsSink is CloudWatch Logs through berth's API, signed with the
// agent's credentials.
type logsSink struct{ api *apiClient }

var _ awslogs.Sink = logsSink{}

func (s logsSink) call(ctx context.Context, region, op string, in any) error {
	err := s.api.callServiceIn(ctx, region, "logs", logsTarget, op, in, nil)
	var ae *APIError
	if errors.As(err, &ae) {
		switch ae.Code {
		case logs.CodeResourceAlreadyExists:
			return fmt.Errorf("%w: %s", awslogs.ErrExists, ae.Error())
		case logs.CodeResourceNotFound:
			return fmt.Errorf("%w: %s", awslogs.ErrNotFound, ae.Error())
		}
	}
	return err
}

func (s logsSink) CreateGroup(ctx context.Context, region, group string) error {
	return s.call(ctx, region, "CreateLogGroup", map[string]string{"logGroupName": group})
}

func (s logsSink) CreateStream(ctx context.Context, region, group, stream string) error {
	err := s.call(ctx, region, "CreateLogStream", map[string]string{"logGroupName": group, "logStreamName": stream})
	if errors.Is(err, awslogs.ErrNotFound) {
		// Docker's awslogs driver words it so; ECS shows it as the reason.
		return fmt.Errorf("failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.")
	}
	return err
}

type wEvent struct {
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

func (s logsSink) Put(ctx context.Context, region, group, stream string, events []logs.InputEvent) error {
	evs := make([]wEvent, len(events))
	for i, e := range events {
		evs[i] = wEvent{e.Timestamp, e.Message}
	}
	return s.call(ctx, region, "PutLogEvents", map[string]any{"logGroupName": group, "logStreamName": stream, "logEvents": evs})
}

// taskDef is what the agent remembers of a task for its log shipping.
type taskDef struct {
	task *ecs.Task
	def  *ecs.TaskDefinition
}

// shipLogs starts shipping the output of the change's containers that use
// the awslogs driver (level-based: the shipper ignores containers it
// already follows).
func (a *Agent) shipLogs(ch runner.TaskChange) {
	a.mu.Lock()
	td, ok := a.defs[ch.TaskARN]
	if ok && ch.LastStatus == ecs.TaskStopped {
		delete(a.defs, ch.TaskARN)
	}
	a.mu.Unlock()
	if ch.LastStatus == ecs.TaskStopped && a.metadata != nil {
		a.metadata.forget(ch.TaskARN)
	}
	if !ok || a.shipper == nil {
		return
	}
	for _, c := range ch.Containers {
		if c.RuntimeID == "" || (c.LastStatus != ecs.TaskRunning && c.LastStatus != ecs.TaskStopped) {
			continue
		}
		for i := range td.def.ContainerDefinitions {
			cd := &td.def.ContainerDefinitions[i]
			if cd.Name == c.Name && cd.LogConfiguration != nil {
				a.shipper.Follow(td.task, c.Name, c.RuntimeID, cd.LogConfiguration)
			}
		}
	}
}
