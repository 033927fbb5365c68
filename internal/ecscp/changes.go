package ecscp

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
)

// TaskChange is what an agent reports about a task (SubmitTaskStateChange,
// and container health from telemetry). Zero fields report nothing.
type TaskChange struct {
	Status   string
	Reason   string
	StopCode string // the agent's reason code for a task it stopped
	// Times; zero: not reported. StartedAt is when the task became RUNNING
	// (for a RUNNING report superseded by a later one).
	PullStartedAt, PullStoppedAt, ExecutionStoppedAt, StartedAt time.Time
	Containers                                                  []ContainerChange
	Attachments                                                 []AttachmentChange
}

// ContainerChange is a container's part of a task change.
type ContainerChange struct {
	Name         string
	RuntimeID    string
	ImageDigest  string
	Status       string
	ExitCode     *int
	Reason       string
	HealthStatus string
	// NetworkBindings, if not nil, are the container's published ports.
	NetworkBindings []ecs.NetworkBinding
}

// AttachmentChange reports a task's network interface (an awsvpc task's,
// created by the agent).
type AttachmentChange struct {
	AttachmentARN string
	Status        string
	ENI           ecs.ENI
}

// SubmitTaskStateChange applies an agent's report to a task (cluster a
// name or ARN, task an ARN or ID). Reports never move a task back; a
// report about a STOPPED task changes nothing. When the task stops, what
// it reserved on its instance is released in the same write.
func (p *Plane) SubmitTaskStateChange(ctx context.Context, sc ecs.Scope, cluster, task string, ch TaskChange) error {
	name, err := ecs.ClusterName(cluster)
	if err != nil {
		return err
	}
	tc, id, err := ParseTaskRef(task, name)
	if err != nil {
		return err
	}
	if ch.Status != "" && ecs.TaskStatusIndex(ch.Status) < 0 {
		return fault.New(fault.InvalidParameter, "Invalid task status %q.", ch.Status)
	}
	now := p.now()
	var before, after, arn, def string
	_, err = p.repo.UpdateTask(ctx, sc, tc, id, func(t *ecs.Task) error {
		before = t.LastStatus
		err := applyTaskChange(t, &ch, now)
		after, arn, def = t.LastStatus, t.ARN, t.TaskDefinitionARN
		return err
	}, p.TaskResources)
	if err != nil {
		return err
	}
	if after == ecs.TaskRunning && before != after {
		p.log.Info("task running", "cluster", tc, "task", arn, "taskDefinition", def)
	}
	return nil
}

// SubmitContainerStateChange applies an agent's report about one
// container.
func (p *Plane) SubmitContainerStateChange(ctx context.Context, sc ecs.Scope, cluster, task string, ch ContainerChange) error {
	return p.SubmitTaskStateChange(ctx, sc, cluster, task, TaskChange{Containers: []ContainerChange{ch}})
}

// TaskHealth is the container health an agent published for a task.
type TaskHealth struct {
	TaskARN    string
	ClusterARN string
	Containers []ContainerChange // Name and HealthStatus
}

// SubmitTaskHealth records the container health an agent published on its
// telemetry session, as a task state change. account is the signer's; a
// task of another account, or not on instanceARN, is refused
// (AccessDenied). A task gone since has no health to record.
func (p *Plane) SubmitTaskHealth(ctx context.Context, account, instanceARN string, h TaskHealth) error {
	pa, ok := ecs.ParseARN(h.TaskARN)
	if !ok || (account != "" && pa.Account != account) {
		return fault.New(fault.AccessDenied, "The task %s is not one of this account's.", h.TaskARN)
	}
	defCluster := ""
	if h.ClusterARN != "" {
		defCluster, _ = ecs.ClusterName(h.ClusterARN)
	}
	cluster, id, err := ParseTaskRef(h.TaskARN, defCluster)
	if err != nil {
		return err
	}
	ch := TaskChange{}
	for _, c := range h.Containers {
		switch c.HealthStatus {
		case ecs.HealthHealthy, ecs.HealthUnhealthy, ecs.HealthUnknown:
		default:
			continue
		}
		ch.Containers = append(ch.Containers, ContainerChange{Name: c.Name, HealthStatus: c.HealthStatus})
	}
	if len(ch.Containers) == 0 {
		return nil
	}
	now := p.now()
	_, err = p.repo.UpdateTask(ctx, ecs.Scope{Account: pa.Account, Region: pa.Region}, cluster, id, func(t *ecs.Task) error {
		if instanceARN != "" && t.ContainerInstanceARN != instanceARN {
			return fault.New(fault.AccessDenied, "The task %s does not run on %s.", h.TaskARN, instanceARN)
		}
		return applyTaskChange(t, &ch, now)
	}, p.TaskResources)
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	return err
}

// applyTaskChange applies an agent's report to a task. Reports never move a
// task back; a report about a STOPPED task changes nothing.
func applyTaskChange(t *ecs.Task, in *TaskChange, now time.Time) error {
	if t.LastStatus == ecs.TaskStopped {
		return ecsstore.ErrNoChange
	}
	v := t.Version
	if !in.PullStartedAt.IsZero() {
		t.MarkPullStarted(in.PullStartedAt)
	}
	if !in.PullStoppedAt.IsZero() {
		t.MarkPullStopped(in.PullStoppedAt)
	}
	for i := range in.Containers {
		applyContainerChange(t, &in.Containers[i])
	}
	for _, at := range in.Attachments {
		if at.ENI.PrivateIPv4Address == "" {
			continue
		}
		for _, existing := range t.Attachments {
			if existing.Type == ecs.AttachmentENI && existing.Status != ecs.AttachmentAttached && (at.AttachmentARN == "" || strings.HasSuffix(at.AttachmentARN, existing.ID)) {
				eni := at.ENI
				if eni.NetworkInterfaceID == "" {
					eni.NetworkInterfaceID = "eni-" + strings.ReplaceAll(existing.ID, "-", "")[:17]
				}
				if eni.PrivateDNSName == "" {
					eni.PrivateDNSName = "ip-" + strings.ReplaceAll(eni.PrivateIPv4Address, ".", "-") + "." + regionOf(t.ARN) + ".compute.internal"
				}
				if err := t.AttachENI(eni); err != nil {
					return err
				}
			}
		}
	}
	if in.Status != "" && ecs.TaskStatusIndex(in.Status) > ecs.TaskStatusIndex(t.LastStatus) {
		if !in.StartedAt.IsZero() && t.StartedAt.IsZero() && ecs.TaskStatusIndex(in.Status) >= ecs.TaskStatusIndex(ecs.TaskRunning) {
			t.StartedAt = in.StartedAt
		}
		if in.Status == ecs.TaskStopped {
			if t.StopCode == "" {
				t.StopCode = in.StopCode
				if t.StopCode == "" {
					if _, exited := t.EssentialExited(); exited && !t.StartedAt.IsZero() {
						t.StopCode = ecs.StopEssentialContainerExited
					}
				}
			}
			if t.StoppedReason == "" {
				t.StoppedReason = in.Reason
				if t.StoppedReason == "" && t.StopCode == ecs.StopEssentialContainerExited {
					t.StoppedReason = ecs.EssentialContainerExitedReason
				}
			}
		}
		if err := t.Advance(in.Status, now); err != nil {
			return err
		}
		if in.Status == ecs.TaskStopped && !in.ExecutionStoppedAt.IsZero() {
			t.ExecutionStoppedAt = in.ExecutionStoppedAt
		}
	}
	t.DeriveHealth()
	if t.Version == v {
		return ecsstore.ErrNoChange
	}
	return nil
}

func applyContainerChange(t *ecs.Task, ch *ContainerChange) {
	c := t.Container(ch.Name)
	if c == nil {
		return
	}
	changed := false
	set := func(dst *string, v string) {
		if v != "" && *dst != v {
			*dst, changed = v, true
		}
	}
	set(&c.RuntimeID, ch.RuntimeID)
	set(&c.ImageDigest, ch.ImageDigest)
	if ch.NetworkBindings != nil && !slices.Equal(c.NetworkBindings, ch.NetworkBindings) {
		c.NetworkBindings, changed = slices.Clone(ch.NetworkBindings), true
	}
	if changed {
		t.Version++
	}
	if ch.Status != "" {
		// A report that would move the container back is stale; skip it.
		_ = t.SetContainerStatus(ch.Name, ch.Status, ch.ExitCode, ch.Reason)
	}
	if ch.HealthStatus != "" {
		_ = t.SetContainerHealth(ch.Name, ch.HealthStatus)
	}
}

// RecordAgentVersion stores the agent and Docker versions an agent sent
// when it opened its ACS session (ECS agents send them there, not with
// RegisterContainerInstance).
func (p *Plane) RecordAgentVersion(ctx context.Context, instanceARN string, v ecs.VersionInfo) error {
	pa, ok := ecs.ParseARN(instanceARN)
	ref, err := ecs.ParseInstanceRef(instanceARN, "")
	if !ok || err != nil {
		return fault.New(fault.InvalidParameter, "Invalid container instance ARN %s.", instanceARN)
	}
	_, err = p.repo.UpdateInstance(ctx, ecs.Scope{Account: pa.Account, Region: pa.Region}, ref, func(ci *ecs.ContainerInstance) error {
		if !ci.SetVersionInfo(v) {
			return ecsstore.ErrNoChange
		}
		return nil
	})
	return err
}
