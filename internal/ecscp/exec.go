package ecscp

import (
	"context"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
)

// ExecTarget is the container an ECS Exec session runs a command in.
type ExecTarget struct {
	Scope         ecs.Scope
	ClusterARN    string
	TaskARN       string
	InstanceARN   string // the agent that runs the task
	ContainerARN  string
	ContainerName string
	Command       []string
	// StreamBase is the scheme and host the client reaches this server
	// at ("ws://127.0.0.1:4566").
	StreamBase string
}

// ExecSession is an opened session: the client connects to StreamURL and
// presents Token, once.
type ExecSession struct {
	ID, StreamURL, Token string
}

// ExecSessions opens ECS Exec sessions (the server's exec broker).
type ExecSessions interface {
	OpenExec(ctx context.Context, t ExecTarget) (ExecSession, error)
}

// ExecuteCommandInput is an ExecuteCommand call.
type ExecuteCommandInput struct {
	Cluster, Task, Container, Command string
	Interactive                       bool
	StreamBase                        string
}

// ExecuteCommandResult is ExecuteCommand's answer.
type ExecuteCommandResult struct {
	Target  ExecTarget
	Session ExecSession
}

// ExecuteCommand opens an ECS Exec session in a container of a running
// task that was started with enableExecuteCommand.
func (p *Plane) ExecuteCommand(ctx context.Context, sc ecs.Scope, in ExecuteCommandInput) (ExecuteCommandResult, error) {
	if in.Command == "" {
		return ExecuteCommandResult{}, fault.New(fault.InvalidParameter, "command is required.")
	}
	if in.Task == "" {
		return ExecuteCommandResult{}, fault.New(fault.InvalidParameter, "task is required.")
	}
	if !in.Interactive {
		return ExecuteCommandResult{}, fault.New(fault.InvalidParameter, "Interactive is the only mode supported currently.")
	}
	args, err := ecs.SplitCommand(in.Command)
	if err != nil {
		return ExecuteCommandResult{}, fault.New(fault.InvalidParameter, "The command cannot be run: %s.", err)
	}
	name, err := ecs.ClusterName(in.Cluster)
	if err != nil {
		return ExecuteCommandResult{}, err
	}
	if err := p.sync(ctx); err != nil {
		return ExecuteCommandResult{}, err
	}
	cl, _, ok := p.cache.Cluster(sc, name)
	if !ok {
		return ExecuteCommandResult{}, fault.NotFoundf("cluster", "Cluster not found.").WithResource("cluster")
	}
	tc, id, err := ParseTaskRef(in.Task, name)
	if err != nil {
		return ExecuteCommandResult{}, err
	}
	var t *ecs.Task
	if tc == name {
		t, ok = p.cache.Task(sc, tc, id)
	}
	if !ok || t == nil {
		return ExecuteCommandResult{}, fault.New(fault.InvalidParameter, "The referenced task was not found.")
	}
	if !t.EnableExecuteCommand || t.LastStatus != ecs.TaskRunning || t.DesiredStatus != ecs.TaskRunning || t.ContainerInstanceARN == "" {
		return ExecuteCommandResult{}, fault.New(fault.InvalidParameter, ecs.ExecNotEnabledMessage)
	}
	var c *ecs.Container
	switch {
	case in.Container != "":
		for i := range t.Containers {
			if t.Containers[i].Name == in.Container {
				c = &t.Containers[i]
			}
		}
		if c == nil {
			return ExecuteCommandResult{}, fault.New(fault.InvalidParameter, "The container %s was not found in the task.", in.Container)
		}
	case len(t.Containers) == 1:
		c = &t.Containers[0]
	default:
		return ExecuteCommandResult{}, fault.New(fault.InvalidParameter, "The task has more than one container: specify the container to run the command in.")
	}
	if c.LastStatus != ecs.ContainerRunning {
		return ExecuteCommandResult{}, fault.New(fault.InvalidParameter, ecs.ExecNotEnabledMessage)
	}
	if p.exec == nil {
		return ExecuteCommandResult{}, fault.New(fault.Unsupported, "ECS Exec is not served by this server.")
	}
	target := ExecTarget{
		Scope: sc, ClusterARN: cl.ARN, TaskARN: t.ARN, InstanceARN: t.ContainerInstanceARN,
		ContainerARN: c.ContainerARN, ContainerName: c.Name, Command: args, StreamBase: in.StreamBase,
	}
	s, err := p.exec.OpenExec(ctx, target)
	if err != nil {
		return ExecuteCommandResult{}, err
	}
	return ExecuteCommandResult{Target: target, Session: s}, nil
}
