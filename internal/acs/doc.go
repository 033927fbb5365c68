// Package acs is berth's side, and its agent's side, of the ECS Agent
// Communication Service: the long-lived websocket over which the control
// plane tells a container instance's agent which tasks to run or stop.
//
// The shapes are ECS's own (the amazon-ecs-agent's ACS model): an agent
// registers with RegisterContainerInstance, asks DiscoverPollEndpoint where
// to connect, and opens a SigV4-signed websocket to <endpoint>/ws with its
// cluster and container instance ARNs in the query. Every message is framed
// as {"type": "...", "message": {...}}:
//
//	server → agent   PayloadMessage   tasks (ACS task shape) and their desired status
//	agent → server   AckRequest       the payload's messageId, once handled
//	both ways        HeartbeatMessage answered by HeartbeatAckRequest
//	server → agent   InactiveInstanceException, ... before closing a refused session
//
// berth extends the ACS task with the task and its definition exactly as
// the control plane stores them (berthTask, berthTaskDefinition), so its
// agent runs them without a lossy translation; other agents ignore them.
// State goes back over the normal ECS API (SubmitTaskStateChange, ...).
//
// The protocol is level-based: on every (re)connection the server sends the
// instance every task it should be running or stopping, so a message lost
// with a dropped connection is never lost for good.
package acs
