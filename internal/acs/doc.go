// Package acs is berth's side, and its agent's side, of the ECS agent
// protocol: the Agent Communication Service (ACS) websocket over which the
// control plane tells a container instance's agent which tasks to run or
// stop, the telemetry (TCS) websocket on which agents publish metrics and
// container health, and the shapes of the state changes agents report
// over the ECS API.
//
// The shapes are ECS's own (the amazon-ecs-agent's ACS and TCS models): an
// agent registers with RegisterContainerInstance, asks DiscoverPollEndpoint
// where to connect, and opens a SigV4-signed websocket to <endpoint>/ws
// with its cluster and container instance ARNs, agent version and hash and
// Docker version in the query. Every message is framed as
// {"type": "...", "message": {...}}:
//
//	server → agent   PayloadMessage   tasks (ACS Task shape) and their desired status
//	agent → server   AckRequest       the payload's messageId, once handled
//	both ways        HeartbeatMessage answered by HeartbeatAckRequest
//	server → agent   InactiveInstanceException, ... before closing a refused session
//
// A Task carries the task definition with the task's overrides applied, in
// ACS's members and, for what ACS has no member for, in Docker Engine API
// JSON (DockerConfig.Config and HostConfig), as ECS sends it (NewTask).
// No domain struct travels: berth's own agent reads the task back with
// Task.Definition and runs exactly what any ECS agent would.
//
// On the telemetry session (TelemetryServer) the server heartbeats and
// acknowledges every publish, and hands PublishHealthRequest to the
// control plane: ECS agents report container health only there.
//
// The protocol is level-based: on every (re)connection the server sends the
// instance every task it should be running or stopping, so a message lost
// with a dropped connection is never lost for good.
package acs
