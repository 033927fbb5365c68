package acs

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
)

// TypeExec is berth's extension of ACS for ECS Exec: the server asks the
// agent of the task's instance to run a command in a container and to
// connect back to ExecAgentPath with the request's AgentToken; the two
// then relay the process's input and output as exec link frames (below).
// Other agents ignore the message type (the session then times out).
const TypeExec = "BerthExecCommandMessage"

// ExecAgentPath is where an agent connects for an exec (the session ID
// follows).
const ExecAgentPath = "/_berth/exec/agent/"

// ExecTokenHeader carries ExecRequest.AgentToken on the agent's connection.
const ExecTokenHeader = "X-Berth-Exec-Token"

// ExecRequest asks an agent to run a command in a task's container.
type ExecRequest struct {
	MessageID     string   `json:"messageId"`
	SessionID     string   `json:"sessionId"`
	AgentToken    string   `json:"agentToken"`
	TaskARN       string   `json:"taskArn"`
	ContainerName string   `json:"containerName"`
	Command       []string `json:"command"`
	TTY           bool     `json:"tty"`
	Cols          uint     `json:"cols,omitempty"`
	Rows          uint     `json:"rows,omitempty"`
}

// SendExec sends an exec request to the agent.
func (s *Session) SendExec(ctx context.Context, req ExecRequest) error {
	req.MessageID = newMessageID()
	return s.send(ctx, TypeExec, req)
}

// Exec link frames: binary websocket messages whose first byte is the kind.
const (
	LinkOutput byte = 'o' // agent → server: process output
	LinkInput  byte = 'i' // server → agent: process input
	LinkResize byte = 'r' // server → agent: {"cols":..,"rows":..}
	LinkExit   byte = 'x' // agent → server: the exit code, in decimal; the last frame
	LinkError  byte = 'e' // agent → server: why the exec could not run; the last frame
)

// LinkSize is the payload of a LinkResize frame.
type LinkSize struct {
	Cols uint `json:"cols"`
	Rows uint `json:"rows"`
}

// LinkFrame builds a frame.
func LinkFrame(kind byte, payload []byte) []byte {
	return append([]byte{kind}, payload...)
}

// ParseLinkFrame splits a frame.
func ParseLinkFrame(b []byte) (byte, []byte, error) {
	if len(b) == 0 {
		return 0, nil, errors.New("acs: empty exec link frame")
	}
	return b[0], b[1:], nil
}

// ExitFrame is a LinkExit frame.
func ExitFrame(code int) []byte { return LinkFrame(LinkExit, []byte(strconv.Itoa(code))) }

// ResizeFrame is a LinkResize frame.
func ResizeFrame(cols, rows uint) []byte {
	b, _ := json.Marshal(LinkSize{Cols: cols, Rows: rows})
	return LinkFrame(LinkResize, b)
}
