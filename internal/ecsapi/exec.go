package ecsapi

import (
	"context"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/fault"
)

type executeCommandIn struct {
	Cluster     string `json:"cluster"`
	Container   string `json:"container"`
	Command     string `json:"command"`
	Interactive *bool  `json:"interactive"`
	Task        string `json:"task"`
}

type execSessionOut struct {
	SessionID  string `json:"sessionId"`
	StreamURL  string `json:"streamUrl"`
	TokenValue string `json:"tokenValue"`
}

type executeCommandOut struct {
	ClusterARN    string         `json:"clusterArn"`
	ContainerARN  string         `json:"containerArn"`
	ContainerName string         `json:"containerName"`
	Interactive   bool           `json:"interactive"`
	Session       execSessionOut `json:"session"`
	TaskARN       string         `json:"taskArn"`
}

// executeCommand opens an ECS Exec session. The stream URL is on the host
// the caller reached (ws, or wss behind TLS).
func (a *API) executeCommand(ctx context.Context, c *awsproto.Call, in *executeCommandIn) (any, error) {
	if in.Interactive == nil {
		return nil, fault.New(fault.InvalidParameter, "interactive is required.")
	}
	base := "ws://localhost:4566"
	if r := c.HTTP; r != nil && r.Host != "" {
		scheme := "ws"
		if r.TLS != nil {
			scheme = "wss"
		}
		base = scheme + "://" + r.Host
	}
	res, err := a.plane.ExecuteCommand(ctx, a.scope(c), ecscp.ExecuteCommandInput{
		Cluster: in.Cluster, Task: in.Task, Container: in.Container, Command: in.Command,
		Interactive: *in.Interactive, StreamBase: base,
	})
	if err != nil {
		return nil, err
	}
	t := res.Target
	return &executeCommandOut{
		ClusterARN: t.ClusterARN, ContainerARN: t.ContainerARN, ContainerName: t.ContainerName, Interactive: true,
		TaskARN: t.TaskARN,
		Session: execSessionOut{SessionID: res.Session.ID, StreamURL: res.Session.StreamURL, TokenValue: res.Session.Token},
	}, nil
}
