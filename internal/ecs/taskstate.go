package ecs

import (
	"slices"
	"time"
)

// Advance moves the task's lastStatus forward to status to and records the
// matching timestamps (each set once, never overwritten):
//
//	PENDING or later     connectivity CONNECTED, connectivityAt
//	RUNNING              startedAt; pullStoppedAt if a pull started and did not stop
//	DEACTIVATING..       desiredStatus STOPPED
//	STOPPING or later    stoppingAt
//	DEPROVISIONING..     executionStoppedAt
//	STOPPED              stoppedAt; containers still not STOPPED become STOPPED
//
// A task that reaches STOPPED without ever having started gets the stop
// code TaskFailedToStart unless a stop code was already set. States may be
// skipped, as ECS does. Advancing to the current status is a
// no-op; moving backwards, or anywhere from STOPPED, is an error.
func (t *Task) Advance(to string, now time.Time) error {
	next := TaskStatusIndex(to)
	if next < 0 {
		return clientErr("Unknown task status %q.", to)
	}
	cur := TaskStatusIndex(t.LastStatus)
	if next == cur {
		return nil
	}
	if next < cur {
		return clientErr("Task %s cannot move from %s back to %s.", t.ID, t.LastStatus, to)
	}
	t.LastStatus = to
	set := func(ts *time.Time) {
		if ts.IsZero() {
			*ts = now
		}
	}
	if next >= taskOrder[TaskPending] && t.Connectivity == "" {
		t.Connectivity = ConnectivityConnected
		set(&t.ConnectivityAt)
	}
	if to == TaskRunning {
		set(&t.StartedAt)
		if !t.PullStartedAt.IsZero() {
			set(&t.PullStoppedAt)
		}
	}
	if next >= taskOrder[TaskDeactivating] {
		t.DesiredStatus = TaskStopped
	}
	if next >= taskOrder[TaskStopping] {
		set(&t.StoppingAt)
	}
	if next >= taskOrder[TaskDeprovisioning] {
		set(&t.ExecutionStoppedAt)
	}
	if to == TaskStopped {
		set(&t.StoppedAt)
		for i := range t.Containers {
			if t.Containers[i].LastStatus != ContainerStopped {
				t.Containers[i].LastStatus = ContainerStopped
			}
		}
		if t.StopCode == "" && t.StartedAt.IsZero() {
			t.StopCode = StopTaskFailedToStart
		}
		for i := range t.Attachments {
			t.Attachments[i].Status = AttachmentDeleted
		}
	}
	t.Version++
	return nil
}

// MarkPullStarted records the start of the task's image pulls (once).
func (t *Task) MarkPullStarted(now time.Time) {
	if t.PullStartedAt.IsZero() {
		t.PullStartedAt = now
		t.Version++
	}
}

// MarkPullStopped records the end of the task's image pulls (once).
func (t *Task) MarkPullStopped(now time.Time) {
	if t.PullStoppedAt.IsZero() {
		t.PullStoppedAt = now
		t.Version++
	}
}

// RequestStop asks for the task to stop: desiredStatus becomes STOPPED,
// stoppingAt is recorded, and the stop code and reason are kept unless an
// earlier request already set them. It is idempotent, and a no-op on a
// STOPPED task.
func (t *Task) RequestStop(code, reason string, now time.Time) {
	if t.LastStatus == TaskStopped {
		return
	}
	changed := false
	if t.DesiredStatus != TaskStopped {
		t.DesiredStatus = TaskStopped
		changed = true
	}
	if t.StoppingAt.IsZero() {
		t.StoppingAt = now
		changed = true
	}
	if t.StopCode == "" && code != "" {
		t.StopCode = code
		changed = true
	}
	if t.StoppedReason == "" && reason != "" {
		t.StoppedReason = reason
		changed = true
	}
	if changed {
		t.Version++
	}
}

// Container returns the task's container with the given name, or nil.
func (t *Task) Container(name string) *Container {
	for i := range t.Containers {
		if t.Containers[i].Name == name {
			return &t.Containers[i]
		}
	}
	return nil
}

// SetContainerStatus moves a container forward (PENDING → RUNNING →
// STOPPED). A STOPPED container keeps its exit code and reason. Moving a
// container back is an error; repeating its status is a no-op.
func (t *Task) SetContainerStatus(name, status string, exitCode *int, reason string) error {
	c := t.Container(name)
	if c == nil {
		return clientErr("Task %s has no container named %s.", t.ID, name)
	}
	order := map[string]int{ContainerPending: 0, ContainerRunning: 1, ContainerStopped: 2}
	next, ok := order[status]
	if !ok {
		return clientErr("Unknown container status %q.", status)
	}
	cur := order[c.LastStatus]
	if next < cur {
		return clientErr("Container %s cannot move from %s back to %s.", name, c.LastStatus, status)
	}
	if next == cur {
		return nil
	}
	c.LastStatus = status
	if status == ContainerStopped {
		c.ExitCode = cloneInt(exitCode)
		c.Reason = reason
	}
	t.Version++
	return nil
}

// SetContainerHealth records a container's health and re-derives the
// task's health.
func (t *Task) SetContainerHealth(name, health string) error {
	c := t.Container(name)
	if c == nil {
		return clientErr("Task %s has no container named %s.", t.ID, name)
	}
	if c.HealthStatus != health {
		c.HealthStatus = health
		t.Version++
	}
	t.DeriveHealth()
	return nil
}

// DeriveHealth sets the task's healthStatus from its essential containers
// that have a health check: UNHEALTHY if any of them is UNHEALTHY, HEALTHY
// if there is at least one and all are HEALTHY, UNKNOWN otherwise.
// Containers without a health check, and non-essential ones, do not count.
func (t *Task) DeriveHealth() {
	checked, healthy, unhealthy := 0, 0, 0
	for _, c := range t.Containers {
		if !c.Essential || !c.HealthCheck {
			continue
		}
		checked++
		switch c.HealthStatus {
		case HealthHealthy:
			healthy++
		case HealthUnhealthy:
			unhealthy++
		}
	}
	h := HealthUnknown
	switch {
	case unhealthy > 0:
		h = HealthUnhealthy
	case checked > 0 && healthy == checked:
		h = HealthHealthy
	}
	if t.HealthStatus != h {
		t.HealthStatus = h
		t.Version++
	}
}

// EssentialExited returns the first essential container that has stopped.
// When one has, ECS stops the whole task with stop code
// EssentialContainerExited and reason "Essential container in task exited".
func (t *Task) EssentialExited() (name string, ok bool) {
	for _, c := range t.Containers {
		if c.Essential && c.LastStatus == ContainerStopped {
			return c.Name, true
		}
	}
	return "", false
}

// ENI is the network interface the runtime created for an awsvpc task.
type ENI struct {
	NetworkInterfaceID string
	MACAddress         string
	PrivateDNSName     string
	PrivateIPv4Address string
	IPv6Address        string
}

// AttachENI records the task's ENI on its attachment (which becomes
// ATTACHED) and on every container's network interfaces.
func (t *Task) AttachENI(eni ENI) error {
	i := slices.IndexFunc(t.Attachments, func(a Attachment) bool { return a.Type == AttachmentENI })
	if i < 0 {
		return clientErr("Task %s has no network interface attachment.", t.ID)
	}
	a := &t.Attachments[i]
	a.setDetail("networkInterfaceId", eni.NetworkInterfaceID)
	a.setDetail("macAddress", eni.MACAddress)
	a.setDetail("privateDnsName", eni.PrivateDNSName)
	a.setDetail("privateIPv4Address", eni.PrivateIPv4Address)
	if eni.IPv6Address != "" {
		a.setDetail("privateIPv6Address", eni.IPv6Address)
	}
	a.Status = AttachmentAttached
	for j := range t.Containers {
		t.Containers[j].NetworkInterfaces = []NetworkInterface{{
			AttachmentID: a.ID, PrivateIPv4Address: eni.PrivateIPv4Address, IPv6Address: eni.IPv6Address,
		}}
	}
	t.Version++
	return nil
}

// AssignInstance records the container instance an EC2 task was placed on,
// and takes its availability zone and capacity provider.
func (t *Task) AssignInstance(ci *ContainerInstance) {
	t.ContainerInstanceARN = ci.ARN
	if az, ok := ci.Attribute(AttrAvailabilityZone); ok {
		t.AvailabilityZone = az
	}
	if ci.CapacityProviderName != "" {
		t.CapacityProviderName = ci.CapacityProviderName
	}
	t.Version++
}
