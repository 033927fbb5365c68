// Package docker implements [driver.Driver] on the Docker Engine API, with
// github.com/moby/moby/client. It negotiates the API version with the
// daemon and works with Engine 20.10 (API 1.41) and later.
//
// Construct it directly with [New], or through the driver registry, where
// it is registered as "docker":
//
//	d, err := docker.New(docker.Options{Logger: logger})
//	d, err := driver.Open("docker", driver.Config{Logger: logger,
//		Params: map[string]string{"host": "unix:///var/run/docker.sock"}})
//
// # Networking
//
// ECS network modes map onto Docker as follows:
//
//   - bridge: containers join Docker's default bridge; port mappings with
//     host port 0 get dynamic host ports, reported after start as
//     NetworkBindings.
//   - host: NetworkMode "host".
//   - awsvpc: every task gets a sandbox container (a tiny "pause" process)
//     attached to a berth-created bridge network ("berth-awsvpc",
//     172.31.0.0/16 by default, created on first use). The sandbox's IP
//     on that bridge is the task's private IP, reachable from the host. The
//     task's containers join the sandbox's network namespace (NetworkMode
//     "container:<sandbox>"), so they share localhost, exactly as in ECS.
//     The task's ports are also published on 127.0.0.1 with dynamic host
//     ports, so that a local load balancer can reach them.
//
// The sandbox image ("berth/sandbox:latest" by default) is built offline on
// first use: from the host's static busybox (/usr/bin/busybox) if present,
// otherwise from the running executable, which must then be statically
// linked and implement a "pause" subcommand (see package
// internal/driver/pause).
//
// # Bookkeeping labels
//
// Besides the caller's labels, containers carry driver labels under
// [driver.LabelDriverPrefix]; they are stripped from reported labels.
package docker
