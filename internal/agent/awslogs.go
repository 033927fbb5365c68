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
// execution role of the target's task (the agent's own credentials for a
// target saved without its task).
type logsSink struct {
	api   *apiClient
	roles *execRoles
}

var _ awslogs.Sink = logsSink{}

func (s logsSink) call(ctx context.Context, t awslogs.Target, op string, in any) error {
	api := s.api
	if t.Task != "" {
		role, err := s.roles.client(ctx, t.Task)
		if err != nil {
			return err
		}
		api = role
	}
	err := api.callServiceIn(ctx, t.Region, "logs", logsTarget, op, in, nil)
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

// CreateGroup implements awslogs.Sink; its errors are worded as Docker's
// awslogs driver words them (ECS shows them as the reason).
func (s logsSink) CreateGroup(ctx context.Context, t awslogs.Target) error {
	err := s.call(ctx, t, "CreateLogGroup", map[string]string{"logGroupName": t.Group})
	var ae *APIError
	if errors.As(err, &ae) && !errors.Is(err, awslogs.ErrExists) {
		return fmt.Errorf("failed to create Cloudwatch log group: %s: %s", ae.Code, ae.Message)
	}
	return err
}

// CreateStream implements awslogs.Sink, worded as CreateGroup.
func (s logsSink) CreateStream(ctx context.Context, t awslogs.Target) error {
	err := s.call(ctx, t, "CreateLogStream", map[string]string{"logGroupName": t.Group, "logStreamName": t.Stream})
	if errors.Is(err, awslogs.ErrNotFound) {
		return fmt.Errorf("failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.")
	}
	var ae *APIError
	if errors.As(err, &ae) && !errors.Is(err, awslogs.ErrExists) {
		return fmt.Errorf("failed to create Cloudwatch log stream: %s: %s", ae.Code, ae.Message)
	}
	return err
}

type wEvent struct {
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

// Put implements awslogs.Sink.
func (s logsSink) Put(ctx context.Context, t awslogs.Target, events []logs.InputEvent) error {
	evs := make([]wEvent, len(events))
	for i, e := range events {
		evs[i] = wEvent{e.Timestamp, e.Message}
	}
	err := s.call(ctx, t, "PutLogEvents", map[string]any{"logGroupName": t.Group, "logStreamName": t.Stream, "logEvents": evs})
	var ae *APIError
	if errors.As(err, &ae) && refusedCodes[ae.Code] {
		return fmt.Errorf("%w: %s", awslogs.ErrRefused, ae.Error())
	}
	return err
}

// refusedCodes are the PutLogEvents exceptions sending again cannot cure.
var refusedCodes = map[string]bool{"AccessDeniedException": true, "InvalidParameterException": true,
	"UnrecognizedClientException": true, "InvalidSignatureException": true}

// DroppedMetricNamespace and DroppedMetricName name the metric an agent
// publishes when CloudWatch Logs refuses a container's log events (berth's
// own: AWS publishes none, Docker's driver only logs it), with dimensions
// ClusterName and LogGroupName; the value is the number of events dropped.
const (
	DroppedMetricNamespace = "Berth/Awslogs"
	DroppedMetricName      = "DroppedLogEvents"
)

// cloudWatchTarget is the X-Amz-Target prefix of CloudWatch (awsJson1.0).
const cloudWatchTarget = "GraniteServiceVersion20100801"

// logsDropped publishes a dropped batch as DroppedLogEvents with the
// agent's own credentials (the shipper has logged it already).
func (a *Agent) logsDropped(ctx context.Context, t awslogs.Target, events int, _ error) {
	in := map[string]any{"Namespace": DroppedMetricNamespace, "MetricData": []map[string]any{{
		"MetricName": DroppedMetricName, "Value": events, "Unit": "Count",
		"Dimensions": []map[string]string{{"Name": "ClusterName", "Value": a.cfg.Cluster}, {"Name": "LogGroupName", "Value": t.Group}},
	}}}
	if err := a.api.callServiceIn(ctx, t.Region, "monitoring", cloudWatchTarget, "PutMetricData", in, nil); err != nil {
		a.cfg.Logger.Warn("awslogs: could not publish the dropped events' metric", "group", t.Group, "err", err)
	}
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
