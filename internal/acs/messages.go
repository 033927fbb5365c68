package acs

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/berth-dev/berth/internal/ecs"
)

// Message types, as they appear in the envelope's "type".
const (
	TypePayload      = "PayloadMessage"
	TypeAck          = "AckRequest"
	TypeHeartbeat    = "HeartbeatMessage"
	TypeHeartbeatAck = "HeartbeatAckRequest"
	TypeError        = "ErrorMessage"
	TypeClose        = "CloseMessage"

	// Exceptions the server sends before closing a session it refuses.
	TypeInactiveInstance = "InactiveInstanceException"
	TypeInvalidInstance  = "InvalidInstanceException"
	TypeInvalidCluster   = "InvalidClusterException"
	TypeAccessDenied     = "AccessDeniedException"
	TypeBadRequest       = "BadRequestException"
)

// Envelope frames every message: {"type":"PayloadMessage","message":{...}}.
type Envelope struct {
	Type    string          `json:"type"`
	Message json.RawMessage `json:"message"`
}

// Encode frames a message of the given type.
func Encode(typ string, msg any) ([]byte, error) {
	raw, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	return json.Marshal(Envelope{Type: typ, Message: raw})
}

// Decode reads an envelope.
func Decode(b []byte) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("acs: undecodable message: %w", err)
	}
	if e.Type == "" {
		return e, fmt.Errorf("acs: message without a type")
	}
	return e, nil
}

// PayloadMessage carries tasks for the instance to run or stop.
type PayloadMessage struct {
	MessageID            string `json:"messageId"`
	ClusterARN           string `json:"clusterArn"`
	ContainerInstanceARN string `json:"containerInstanceArn"`
	Tasks                []Task `json:"tasks"`
	GeneratedAt          int64  `json:"generatedAt,omitempty"`
	SeqNum               int    `json:"seqNum"`
}

// AckRequest acknowledges a PayloadMessage.
type AckRequest struct {
	Cluster           string `json:"cluster"`
	ContainerInstance string `json:"containerInstance"`
	MessageID         string `json:"messageId"`
}

// HeartbeatMessage says the sender is alive.
type HeartbeatMessage struct {
	Healthy   bool   `json:"healthy"`
	MessageID string `json:"messageId"`
}

// HeartbeatAckRequest answers a HeartbeatMessage.
type HeartbeatAckRequest struct {
	MessageID string `json:"messageId"`
}

// ErrorMessage is a message-level error (or, with an exception type, the
// reason a session is refused).
type ErrorMessage struct {
	Message string `json:"message"`
}

// Task is one task of a PayloadMessage, in ACS's shape. The berth*
// members are berth's extension: the task and its definition exactly as
// the control plane stores them, which berth's agent runs; other agents
// ignore them and use the ACS members.
type Task struct {
	ARN                      string                    `json:"arn"`
	TaskClusterARN           string                    `json:"taskClusterArn,omitempty"`
	Family                   string                    `json:"family"`
	Version                  string                    `json:"version"`
	DesiredStatus            string                    `json:"desiredStatus"`
	Overrides                string                    `json:"overrides,omitempty"`
	Containers               []Container               `json:"containers"`
	ElasticNetworkInterfaces []ElasticNetworkInterface `json:"elasticNetworkInterfaces,omitempty"`
	CPU                      float64                   `json:"cpu,omitempty"`
	Memory                   int                       `json:"memory,omitempty"`
	LaunchType               string                    `json:"launchType,omitempty"`
	NetworkMode              string                    `json:"networkMode,omitempty"`
	Group                    string                    `json:"group,omitempty"`
	PidMode                  string                    `json:"pidMode,omitempty"`
	IpcMode                  string                    `json:"ipcMode,omitempty"`

	BerthTask           *ecs.Task           `json:"berthTask,omitempty"`
	BerthTaskDefinition *ecs.TaskDefinition `json:"berthTaskDefinition,omitempty"`
}

// Container is a container of an ACS task.
type Container struct {
	Name         string            `json:"name"`
	Image        string            `json:"image"`
	ContainerARN string            `json:"containerArn,omitempty"`
	Command      []string          `json:"command,omitempty"`
	EntryPoint   []string          `json:"entryPoint,omitempty"`
	CPU          int               `json:"cpu"`
	Memory       int               `json:"memory,omitempty"`
	Environment  map[string]string `json:"environment,omitempty"`
	Essential    bool              `json:"essential"`
	PortMappings []PortMapping     `json:"portMappings,omitempty"`
	StopTimeout  *int              `json:"stopTimeout,omitempty"`
	StartTimeout *int              `json:"startTimeout,omitempty"`
	Overrides    string            `json:"overrides,omitempty"`
	DockerConfig *DockerConfig     `json:"dockerConfig,omitempty"`
}

// PortMapping is a container port mapping.
type PortMapping struct {
	ContainerPort int    `json:"containerPort,omitempty"`
	HostPort      int    `json:"hostPort,omitempty"`
	Protocol      string `json:"protocol,omitempty"`
}

// DockerConfig carries raw Docker configuration (the health check).
type DockerConfig struct {
	Config string `json:"config,omitempty"`
}

// ElasticNetworkInterface is the network interface of an awsvpc task.
type ElasticNetworkInterface struct {
	AttachmentARN string `json:"attachmentArn"`
	Ec2ID         string `json:"ec2Id,omitempty"`
	MACAddress    string `json:"macAddress,omitempty"`
}

// NewTask builds the ACS task for a stored task and its definition.
func NewTask(t *ecs.Task, td *ecs.TaskDefinition) Task {
	out := Task{
		ARN: t.ARN, TaskClusterARN: t.ClusterARN, DesiredStatus: t.DesiredStatus,
		LaunchType: t.LaunchType, Group: t.Group, BerthTask: t, BerthTaskDefinition: td,
		Containers: []Container{},
	}
	if ov, err := json.Marshal(t.Overrides); err == nil {
		out.Overrides = string(ov)
	}
	if cpu, err := strconv.Atoi(t.CPU); err == nil {
		out.CPU = float64(cpu) / 1024
	}
	out.Memory, _ = strconv.Atoi(t.Memory)
	if td == nil {
		return out
	}
	out.Family, out.Version = td.Family, strconv.Itoa(td.Revision)
	out.NetworkMode, out.PidMode, out.IpcMode = td.NetworkMode, td.PidMode, td.IpcMode
	defs, err := ecs.ApplyContainerOverrides(td, &t.Overrides, "")
	if err != nil {
		defs = td.ContainerDefinitions
	}
	for _, cd := range defs {
		c := Container{
			Name: cd.Name, Image: cd.Image, Command: cd.Command, EntryPoint: cd.EntryPoint, CPU: cd.CPU,
			Essential: cd.Essential == nil || *cd.Essential, StopTimeout: cd.StopTimeout, StartTimeout: cd.StartTimeout,
		}
		if tc := t.Container(cd.Name); tc != nil {
			c.ContainerARN = tc.ContainerARN
		}
		if cd.Memory != nil {
			c.Memory = *cd.Memory
		} else if cd.MemoryReservation != nil {
			c.Memory = *cd.MemoryReservation
		}
		if len(cd.Environment) > 0 {
			c.Environment = make(map[string]string, len(cd.Environment))
			for _, e := range cd.Environment {
				c.Environment[e.Name] = e.Value
			}
		}
		for _, pm := range cd.PortMappings {
			m := PortMapping{Protocol: pm.Protocol}
			if pm.ContainerPort != nil {
				m.ContainerPort = *pm.ContainerPort
			}
			if pm.HostPort != nil {
				m.HostPort = *pm.HostPort
			}
			c.PortMappings = append(c.PortMappings, m)
		}
		if hc := cd.HealthCheck; hc != nil {
			b, _ := json.Marshal(map[string]any{"Healthcheck": map[string]any{"Test": hc.Command}})
			c.DockerConfig = &DockerConfig{Config: string(b)}
		}
		out.Containers = append(out.Containers, c)
	}
	for _, a := range t.Attachments {
		if a.Type == ecs.AttachmentENI {
			out.ElasticNetworkInterfaces = append(out.ElasticNetworkInterfaces, ElasticNetworkInterface{
				AttachmentARN: AttachmentARN(t, a.ID), Ec2ID: a.Detail("networkInterfaceId"), MACAddress: a.Detail("macAddress"),
			})
		}
	}
	return out
}

// AttachmentARN returns the ARN of a task's attachment.
func AttachmentARN(t *ecs.Task, id string) string {
	p, ok := ecs.ParseARN(t.ARN)
	if !ok {
		return id
	}
	return ecs.Scope{Account: p.Account, Region: p.Region}.ARN("attachment/" + id)
}
