// Package docker implements [driver.Driver] on the Docker Engine API, with
// github.com/moby/moby/client. It negotiates the API version with the
// daemon and works with Engine 20.10 (API 1.41) and later.
//
// Construct it directly with [New], or through a driver registry, where
// the composition root registers [Open] as "docker":
//
//	d, err := docker.New(docker.Options{Logger: logger})
//	drivers.Register("docker", docker.Open)
//	d, err := drivers.Open("docker", driver.Config{Logger: logger,
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
//     whose network namespace is the task's; its address on the awsvpc
//     bridge network ("berth-awsvpc", 172.31.0.0/16 by default, created on
//     first use) is the task's private IP, reachable from the host. The
//     task's containers join the sandbox's network namespace (NetworkMode
//     "container:<sandbox>"), so they share localhost, exactly as in ECS.
//     The sandbox's die and destroy events are reported with TaskNetwork
//     set: its task has lost its network.
//
// A sandbox is attached in one of two ways:
//
//   - Plumbed by berth (where berth runs as root on Linux next to the daemon,
//     so that the network's bridge device is in its network namespace): the
//     sandbox starts with network "none", and berth adds a veth pair whose
//     host end joins the awsvpc network's bridge (br-<id>) and whose other end
//     is the sandbox's eth0, with the task's address, a MAC derived from it
//     and a default route through the bridge's gateway (netlink, in the
//     sandbox's namespace). Docker's NAT and forwarding rules for that bridge
//     apply as to its own containers, so the task reaches the host
//     (169.254.170.2 for metadata and credentials), other tasks and, through
//     the host's NAT, the host's resolvers (/etc/resolv.conf is the host's, or
//     the task's dnsServers; its hostname is in /etc/hosts with its address).
//     Addresses come from the upper half of the subnet (Docker's IPAM keeps to
//     the lower half: the network is created with that IP range, and an older
//     network's sequential allocation stays low), picked at random and
//     reserved by creating a file named after the address, exclusively, in
//     Options.IPAMDir (/run/berth/awsvpc-ipam/<subnet>), shared by every berth
//     process on the host; the sandbox carries its address and gateway in
//     driver labels (so inspection and adoption after a restart need nothing
//     else), and RemoveTaskNetwork frees the file. Reservations older than a
//     minute that no sandbox carries are freed when the driver first sets up
//     the network. When the sandbox dies, its namespace and the veth pair go
//     with it. The task's port mappings are published nowhere: the host, load
//     balancers (ip targets) and other tasks reach them at the task's address,
//     as an ENI's, and the task network has no Bindings (ECS reports no
//     networkBindings for awsvpc tasks); so there is no host state to clean up
//     when it stops.
//   - Joined to the Docker network (everywhere berth cannot plumb, and
//     with Options.DockerSandboxNetwork, param awsvpc-plumbing=docker):
//     Docker also publishes the port mappings on 127.0.0.1 with dynamic
//     host ports, for hosts that do not route to the bridge (Docker
//     Desktop), reported as the task network's Bindings.
//
// What the Docker network costs: Docker gives every container on a
// user-defined network its embedded DNS resolver, set up at start by a
// re-exec of dockerd that installs iptables rules in the container's
// namespace (the default bridge and "none" skip it, and Engine 20.10 has
// no option to). On the 2-core development VM under load (7-12) a sandbox
// started on a user-defined network took a median 531 and 629 ms against
// 342 and 444 ms on the default bridge (two interleaved sets of 8), and
// the resolver set-up alone a median 76 ms (8-356 ms). A plumbed sandbox
// skips it: a "none" start plus a few netlink calls. What it does not have
// is the embedded resolver's names of the other containers on the network
// (berth's tasks do not use them).
//
// The sandbox image ("berth/sandbox:latest" by default) is built offline on
// first use: from the host's static busybox (/usr/bin/busybox) if present,
// otherwise from the running executable, which must then be statically
// linked and implement a "pause" subcommand (see package
// internal/driver/pause).
//
// # Task-level limits
//
// A container whose spec carries [driver.TaskResources] joins its task's
// cgroup, as the ECS agent's task cgroups do: CreateContainer creates (or
// refreshes, so retries, restarts and reboots are safe) /berth/<id>
// (Options.CgroupRoot; /berth/<owner>/<id> with Options.Owner, so that
// berth servers and agents sharing the host prune only their own) with the task's limits and makes it the container's
// cgroup parent (HostConfig.CgroupParent), so that all the task's
// containers share them:
//
//   - cgroup v1: memory.limit_in_bytes = task memory (and
//     memory.memsw.limit_in_bytes, where swap is accounted: no swap beyond
//     it, so maxSwap does not extend a task's memory) in the memory
//     hierarchy; cpu.cfs_quota_us = cpu units × 100000 / 1024 (at least
//     1000) per cpu.cfs_period_us = 100000 in the cpu hierarchy. runc
//     creates the task's directory in the other hierarchies itself.
//   - cgroup v2: one directory with memory.max, memory.swap.max = 0 and
//     cpu.max = "<quota> 100000", its controllers enabled in the parents'
//     cgroup.subtree_control.
//
// Where the kernel has it (5.14+), the CPU quota's burst (cpu.cfs_burst_us,
// cpu.max.burst) is one quota: the long-run limit is the same, but the
// task's start is not throttled from runc's first instruction (a 256-unit
// task's start took 100-200 ms longer without it).
//
// A process of the task that takes it over its memory is OOM-killed, and
// the container reports OOMKilled (on cgroup v1, Docker also flags the
// task's other running containers, which get the kernel's notification).
// Docker 20.10 can miss the flag when containerd delivers the OOM after the
// exit; the driver then finds the daemon's late "oom" event of the
// container's run in its event log (oom.go).
// [Driver.RemoveTaskResources] removes the directory from every hierarchy
// once the task's containers are gone; while one still runs, the error
// wraps ErrConflict. Containers carry their task's ID in a driver label,
// so [Driver.PruneTaskResources] can remove the task cgroups that no
// container refers to (nor any process uses) and that were not set up
// lately.
//
// Task cgroups need a local daemon (a unix socket) with the cgroupfs
// cgroup driver, not rootless, and a cgroup filesystem that this process
// sees at its root and can write (berth runs on the host, as root). If any
// of that fails, or with Options.NoTaskCgroups, the driver falls back to
// per-container limits, with one warning in the log: every container of
// the task gets the task's memory as its hard limit unless it has one of
// its own, and the task's cpu as a CPU limit (NanoCPUs = units/1024 CPUs,
// at most the daemon's CPUs). The task as a whole can then use more than
// its size. [Driver.TaskCgroupParent] tells which mode is in use.
//
// The task network sandbox (awsvpc) is not in the task cgroup.
//
// # Bookkeeping labels
//
// Besides the caller's labels, containers carry driver labels under
// [driver.LabelDriverPrefix]; they are stripped from reported labels.
package docker
