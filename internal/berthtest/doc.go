// Package berthtest starts real berth servers for tests: in-process on a
// loopback port with a temporary data directory, and returns aws-sdk-go-v2
// configuration pointed at them.
package berthtest
