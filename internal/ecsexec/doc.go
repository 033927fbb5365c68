// Package ecsexec is ECS Exec's data path on the server: the broker that
// opens a session for ExecuteCommand (an unguessable single-use token),
// serves its stream URL in the Session Manager data-channel protocol
// (ssmchannel) and has the agent of the task's instance run the command,
// which it asks over the agent's ACS session (acs.TypeExec). The agent
// connects back to acs.ExecAgentPath and the two relay input, resizes,
// output and the exit code (acs exec link frames).
//
//	aws CLI ─ session-manager-plugin ─ws─► /v1/data-channel/<id>  ┐
//	berth exec ───────────────────────ws─►                       │ Broker
//	agent (managed or EC2/EXTERNAL) ──ws─► /_berth/exec/agent/<id> ┘
//	        └─► driver.Execer (Docker exec API, with a TTY)
package ecsexec
