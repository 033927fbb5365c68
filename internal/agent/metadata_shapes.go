package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/awslogs"
	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/runner"
)

// The task metadata v4 JSON shapes, as ECS documents them
// (task-metadata-endpoint-v4-response, -examples).

type mdLimits struct {
	CPU    float64 `json:"CPU"`
	Memory int     `json:"Memory,omitempty"`
}

type mdPort struct {
	ContainerPort int    `json:"ContainerPort"`
	Protocol      string `json:"Protocol"`
	HostPort      int    `json:"HostPort,omitempty"`
	HostIP        string `json:"HostIp,omitempty"`
}

type mdNetwork struct {
	NetworkMode              string   `json:"NetworkMode"`
	IPv4Addresses            []string `json:"IPv4Addresses,omitempty"`
	AttachmentIndex          *int     `json:"AttachmentIndex,omitempty"`
	MACAddress               string   `json:"MACAddress,omitempty"`
	IPv4SubnetCIDRBlock      string   `json:"IPv4SubnetCIDRBlock,omitempty"`
	PrivateDNSName           string   `json:"PrivateDNSName,omitempty"`
	SubnetGatewayIpv4Address string   `json:"SubnetGatewayIpv4Address,omitempty"`
}

type mdContainer struct {
	DockerID      string            `json:"DockerId"`
	Name          string            `json:"Name"`
	DockerName    string            `json:"DockerName"`
	Image         string            `json:"Image"`
	ImageID       string            `json:"ImageID"`
	Ports         []mdPort          `json:"Ports,omitempty"`
	Labels        map[string]string `json:"Labels"`
	DesiredStatus string            `json:"DesiredStatus"`
	KnownStatus   string            `json:"KnownStatus"`
	ExitCode      *int              `json:"ExitCode,omitempty"`
	Limits        mdLimits          `json:"Limits"`
	CreatedAt     *time.Time        `json:"CreatedAt,omitempty"`
	StartedAt     *time.Time        `json:"StartedAt,omitempty"`
	FinishedAt    *time.Time        `json:"FinishedAt,omitempty"`
	Type          string            `json:"Type"`
	LogDriver     string            `json:"LogDriver,omitempty"`
	LogOptions    map[string]string `json:"LogOptions,omitempty"`
	ContainerARN  string            `json:"ContainerARN"`
	Networks      []mdNetwork       `json:"Networks"`
	Health        *mdHealth         `json:"Health,omitempty"`
}

type mdHealth struct {
	Status string `json:"status"`
}

type mdTask struct {
	Cluster          string        `json:"Cluster"`
	ServiceName      string        `json:"ServiceName,omitempty"`
	TaskARN          string        `json:"TaskARN"`
	Family           string        `json:"Family"`
	Revision         string        `json:"Revision"`
	DesiredStatus    string        `json:"DesiredStatus"`
	KnownStatus      string        `json:"KnownStatus"`
	Limits           *mdLimits     `json:"Limits,omitempty"`
	PullStartedAt    *time.Time    `json:"PullStartedAt,omitempty"`
	PullStoppedAt    *time.Time    `json:"PullStoppedAt,omitempty"`
	AvailabilityZone string        `json:"AvailabilityZone,omitempty"`
	LaunchType       string        `json:"LaunchType,omitempty"`
	Containers       []mdContainer `json:"Containers"`
	ClockDrift       *mdClockDrift `json:"ClockDrift,omitempty"`
}

type mdClockDrift struct {
	ClockErrorBound            float64   `json:"ClockErrorBound"`
	ReferenceTimestamp         time.Time `json:"ReferenceTimestamp"`
	ClockSynchronizationStatus string    `json:"ClockSynchronizationStatus"`
}

func tptr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func (m *metadataServer) container(ctx context.Context, v view) (any, error) {
	for _, c := range v.ch.Containers {
		if c.Name == v.ref.Container {
			return m.containerOf(ctx, v, c), nil
		}
	}
	return nil, fmt.Errorf("container %s is not known yet", v.ref.Container)
}

func (m *metadataServer) containerOf(ctx context.Context, v view, c runner.ContainerChange) mdContainer {
	var cd *ecs.ContainerDefinition
	for i := range v.td.def.ContainerDefinitions {
		if v.td.def.ContainerDefinitions[i].Name == c.Name {
			cd = &v.td.def.ContainerDefinitions[i]
		}
	}
	out := mdContainer{DockerID: c.RuntimeID, Name: c.Name, Image: c.Image, Labels: map[string]string{},
		DesiredStatus: v.td.task.DesiredStatus, KnownStatus: c.LastStatus, ExitCode: c.ExitCode, Type: "NORMAL",
		ContainerARN: containerARN(v.td.task, c.Name)}
	if out.KnownStatus == "" {
		out.KnownStatus = ecs.TaskPending
	}
	if cd != nil {
		out.Image = cd.Image
		out.Limits.CPU = float64(cd.CPU)
		if cd.Memory != nil {
			out.Limits.Memory = *cd.Memory
		}
		if lc := cd.LogConfiguration; lc != nil {
			out.LogDriver = lc.LogDriver
			out.LogOptions = map[string]string{}
			for k, val := range lc.Options {
				out.LogOptions[k] = val
			}
			if t, ok, _ := awslogs.TargetOf(lc, v.td.task.ARN, c.Name, c.RuntimeID, m.a.cfg.Region); ok {
				out.LogOptions["awslogs-stream"] = t.Stream
			}
		}
	}
	if c.HealthStatus != "" && c.HealthStatus != "UNKNOWN" {
		out.Health = &mdHealth{Status: c.HealthStatus}
	}
	for _, b := range c.NetworkBindings {
		out.Ports = append(out.Ports, mdPort{ContainerPort: b.ContainerPort, Protocol: strings.ToLower(cmpOr(b.Protocol, "tcp")), HostPort: b.HostPort, HostIP: b.BindIP})
	}
	mode := cmpOr(v.td.def.NetworkMode, "bridge")
	nw := mdNetwork{NetworkMode: mode}
	if c.RuntimeID != "" {
		if st, err := m.a.cfg.Driver.InspectContainer(ctx, c.RuntimeID); err == nil {
			out.DockerName = st.Name
			out.CreatedAt, out.StartedAt, out.FinishedAt = tptr(st.CreatedAt), tptr(st.StartedAt), tptr(st.FinishedAt)
			for k, val := range st.Labels {
				if strings.HasPrefix(k, "com.amazonaws.ecs.") {
					out.Labels[k] = val
				}
			}
			if st.IPv4Address != "" {
				nw.IPv4Addresses = []string{st.IPv4Address}
			}
		}
		if ii, ok := m.a.cfg.Driver.(interface {
			ImageID(ctx context.Context, ref string) (string, error)
		}); ok {
			out.ImageID, _ = ii.ImageID(ctx, c.Image)
		}
	}
	if mode == "awsvpc" {
		zero := 0
		nw.AttachmentIndex = &zero
		if v.ch.PrivateIPv4 != "" {
			nw.IPv4Addresses = []string{v.ch.PrivateIPv4}
			nw.PrivateDNSName = "ip-" + strings.ReplaceAll(v.ch.PrivateIPv4, ".", "-") + "." + m.a.cfg.Region + ".compute.internal"
		}
		nw.MACAddress = v.ch.MACAddress
	}
	out.Networks = []mdNetwork{nw}
	return out
}

func containerARN(t *ecs.Task, name string) string {
	for _, c := range t.Containers {
		if c.Name == name && c.ContainerARN != "" {
			return c.ContainerARN
		}
	}
	return ""
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (m *metadataServer) task(ctx context.Context, v view) (any, error) {
	t, td := v.td.task, v.td.def
	out := mdTask{Cluster: cmpOr(t.ClusterARN, m.a.clusterARN), TaskARN: t.ARN, Family: td.Family, Revision: strconv.Itoa(td.Revision),
		DesiredStatus: t.DesiredStatus, KnownStatus: v.ch.LastStatus, PullStartedAt: tptr(v.ch.PullStartedAt),
		PullStoppedAt: tptr(v.ch.PullStoppedAt), AvailabilityZone: t.AvailabilityZone, LaunchType: t.LaunchType,
		Containers: []mdContainer{}}
	if strings.HasPrefix(t.Group, "service:") {
		out.ServiceName = strings.TrimPrefix(t.Group, "service:")
	}
	cpu, mem := cmpOr(t.CPU, td.CPU), cmpOr(t.Memory, td.Memory)
	if cpu != "" || mem != "" {
		l := &mdLimits{}
		if n, err := strconv.Atoi(cpu); err == nil {
			l.CPU = float64(n) / 1024
		}
		l.Memory, _ = strconv.Atoi(mem)
		out.Limits = l
	}
	if out.KnownStatus == "" {
		out.KnownStatus = ecs.TaskPending
	}
	for _, c := range v.ch.Containers {
		out.Containers = append(out.Containers, m.containerOf(ctx, v, c))
	}
	now := time.Now().UTC()
	out.ClockDrift = &mdClockDrift{ClockErrorBound: 0.5, ReferenceTimestamp: now.Truncate(time.Second), ClockSynchronizationStatus: "SYNCHRONIZED"}
	return out, nil
}

// rawStats samples one container: Docker's stats JSON when the driver has
// it, otherwise a Docker-shaped subset built from driver.Stats.
func (m *metadataServer) rawStats(ctx context.Context, id string) (json.RawMessage, error) {
	if r, ok := m.a.cfg.Driver.(driver.RawStatsReader); ok {
		return r.RawStats(ctx, id)
	}
	sr, ok := m.a.cfg.Driver.(driver.StatsReader)
	if !ok {
		return nil, fmt.Errorf("the container driver has no statistics")
	}
	s, err := sr.Stats(ctx, id)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"read": s.Time.UTC(), "id": id,
		"cpu_stats":    map[string]any{"cpu_usage": map[string]any{"total_usage": s.CPUUsageNanos}, "system_cpu_usage": s.SystemCPUUsageNanos, "online_cpus": s.OnlineCPUs},
		"memory_stats": map[string]any{"usage": s.MemoryUsageBytes, "limit": s.MemoryLimitBytes},
	})
}

func (m *metadataServer) stats(ctx context.Context, v view) (any, error) {
	for _, c := range v.ch.Containers {
		if c.Name == v.ref.Container && c.RuntimeID != "" {
			return m.rawStats(ctx, c.RuntimeID)
		}
	}
	return nil, fmt.Errorf("container %s has not been created yet", v.ref.Container)
}

func (m *metadataServer) taskStats(ctx context.Context, v view) (any, error) {
	out := map[string]json.RawMessage{}
	for _, c := range v.ch.Containers {
		if c.RuntimeID == "" {
			continue
		}
		if raw, err := m.rawStats(ctx, c.RuntimeID); err == nil {
			out[c.RuntimeID] = raw
		} else {
			out[c.RuntimeID] = json.RawMessage("null")
		}
	}
	return out, nil
}
