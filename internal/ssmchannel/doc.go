// Package ssmchannel speaks the Session Manager data-channel protocol that
// AWS's session-manager-plugin (and the SSM agent) use over a websocket:
// the binary ClientMessage frame, the handshake, sequence numbers,
// acknowledgements and the resending of unacknowledged stream messages.
// ServeChannel is the agent's side of a session (what berth's ECS Exec
// stream URL serves); Dial is a client's side (berth exec).
package ssmchannel
