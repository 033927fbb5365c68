package ssmchannel

import (
	"encoding/json"
	"time"
)

// OpenDataChannel is the first (text) message a client sends on the
// websocket: it carries the session's token. BerthTTY and BerthExitCode
// are berth's extensions for its own client (the plugin never sends them):
// run without a terminal, and report the command's exit code.
type OpenDataChannel struct {
	MessageSchemaVersion string `json:"MessageSchemaVersion"`
	RequestID            string `json:"RequestId"`
	TokenValue           string `json:"TokenValue"`
	ClientID             string `json:"ClientId"`
	ClientVersion        string `json:"ClientVersion"`
	BerthTTY             *bool  `json:"BerthTTY,omitempty"`
	BerthExitCode        bool   `json:"BerthExitCode,omitempty"`
}

// TTY reports whether the client wants a terminal (the default).
func (o OpenDataChannel) TTY() bool { return o.BerthTTY == nil || *o.BerthTTY }

// Acknowledge is the payload of an acknowledge message.
type Acknowledge struct {
	MessageType         string `json:"AcknowledgedMessageType"`
	MessageID           string `json:"AcknowledgedMessageId"`
	SequenceNumber      int64  `json:"AcknowledgedMessageSequenceNumber"`
	IsSequentialMessage bool   `json:"IsSequentialMessage"`
}

// ChannelClosed is the payload of a channel_closed message.
type ChannelClosed struct {
	MessageID     string `json:"MessageId"`
	CreatedDate   string `json:"CreatedDate"`
	DestinationID string `json:"DestinationId"`
	SessionID     string `json:"SessionId"`
	MessageType   string `json:"MessageType"`
	SchemaVersion int    `json:"SchemaVersion"`
	Output        string `json:"Output"`
}

// Session types of the handshake.
const (
	SessionInteractiveCommands = "InteractiveCommands"
	SessionStandardStream      = "Standard_Stream"
)

// Handshake action types and statuses.
const (
	ActionSessionType = "SessionType"
	ActionSuccess     = 1
	ActionFailed      = 2
)

// HandshakeRequest is what the agent's side asks of the client.
type HandshakeRequest struct {
	AgentVersion           string                  `json:"AgentVersion"`
	RequestedClientActions []RequestedClientAction `json:"RequestedClientActions"`
}

// RequestedClientAction is one action of a handshake request.
type RequestedClientAction struct {
	ActionType       string          `json:"ActionType"`
	ActionParameters json.RawMessage `json:"ActionParameters"`
}

// SessionTypeRequest is the parameters of the SessionType action.
type SessionTypeRequest struct {
	SessionType string `json:"SessionType"`
	Properties  any    `json:"Properties"`
}

// HandshakeResponse is the client's answer.
type HandshakeResponse struct {
	ClientVersion          string                  `json:"ClientVersion"`
	ProcessedClientActions []ProcessedClientAction `json:"ProcessedClientActions"`
	Errors                 []string                `json:"Errors"`
}

// ProcessedClientAction is the client's result of one action.
type ProcessedClientAction struct {
	ActionType   string `json:"ActionType"`
	ActionStatus int    `json:"ActionStatus"`
	ActionResult any    `json:"ActionResult"`
	Error        string `json:"Error"`
}

// HandshakeComplete ends the handshake.
type HandshakeComplete struct {
	HandshakeTimeToComplete time.Duration `json:"HandshakeTimeToComplete"`
	CustomerMessage         string        `json:"CustomerMessage"`
}

// Size is a terminal size (PayloadSize).
type Size struct {
	Cols uint32 `json:"cols"`
	Rows uint32 `json:"rows"`
}
