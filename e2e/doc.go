// Package e2e holds end-to-end tests that build the berth binary, start it
// as a separate process exactly as a user would, and drive it with real
// clients: the aws CLI, docker and the Go SDK. They also kill -9 the server
// and restart it to prove that acknowledged writes survive.
package e2e
