// Package runner is the node-side engine of berth's agent: it turns the ECS
// tasks the control plane placed on this instance into real containers
// through a [driver.Driver], and reports what it observes.
//
// It knows nothing of the network or of the agent protocol. The agent feeds
// it desired state with [Runner.Apply] and forwards the [TaskChange] reports
// it receives through Config.OnChange (or reads them with [Runner.Tasks]):
//
//	r := runner.New(runner.Config{Driver: d, Cluster: "default", InstanceARN: arn,
//		OnChange: func(c runner.TaskChange) { agent.Report(c) }})
//	adopted, err := r.Adopt(ctx) // after a restart: find our containers
//	go r.Run(ctx)                // driver events → reconciliation
//	r.Apply(runner.TaskSpec{Task: task, Definition: td})
//
// # Reconciliation
//
// The runner is level-based. Every task has an actor that owns the task's
// state and is the only one to reconcile it; applied specs, driver events
// (start, die, oom, health_status, destroy), timers and the results of
// driver operations reach it through its inbox. An actor holds no goroutine
// while idle: a worker goroutine runs it while its inbox has inputs, one at
// a time per task, so a task never reconciles concurrently and its
// OnChange calls are serial. Once a task has started, the runner keeps only
// what reconciliation needs (not its task definition, nor the specs of
// containers that have started). After each batch of inputs
// it compares the desired state with what it observed and starts whatever
// operations are missing (pull, create, start, stop, remove); slow
// operations run in the background and report back, so a task keeps
// reacting to events while, say, a container takes its stopTimeout to die.
// Containers have deterministic names (see [ContainerName]) and the
// driver's CreateContainer is idempotent by name, so applying a spec twice,
// or after a restart, never starts a duplicate; a container that has exited
// is never started again, unless its restart policy says so (see Container
// restart policies). Each actor re-reads its containers when it starts
// and every Config.ResyncInterval, a safety net for lost events (the event
// stream is resubscribed if it fails).
//
// # Task lifecycle
//
// The statuses reported in TaskChange.LastStatus only move forward, and a
// task may skip some of them (a task that fails to start goes from PENDING
// to STOPPED):
//
//	Apply(desired RUNNING)
//	         │
//	         ▼
//	PROVISIONING ─────── awsvpc only: CreateTaskNetwork (the task's
//	         │           private IP, ports on 127.0.0.1); meanwhile the
//	         │           PENDING work below runs up to the container
//	         │           creates (they join the sandbox by its name), so
//	         │           no container starts before the sandbox runs
//	         ▼
//	PENDING ──────────── create task volumes; pull images (unless
//	         │           present), pullStartedAt/pullStoppedAt; create
//	         │           every container; start each one when its
//	         │           dependsOn conditions hold (START, COMPLETE,
//	         │           SUCCESS, HEALTHY)
//	         │   every essential container started
//	         ▼
//	RUNNING ──────────── report health (HEALTHY when every essential
//	         │           container with a health check is healthy,
//	         │           UNHEALTHY if one is not); a non-essential
//	         │           container may exit
//	         │
//	         │   Apply(desired STOPPED)      → the control plane's code
//	         │   an essential container exits → EssentialContainerExited,
//	         │                                 "Essential container in task exited"
//	         │   a start failure (pull, create, start, dependency that
//	         │   can never be met)            → TaskFailedToStart, the reason
//	         ▼
//	STOPPING ─────────── StopContainer in reverse dependency order (a
//	         │           container stops after those that depend on it):
//	         │           SIGTERM, SIGKILL after its stopTimeout (30s by
//	         │           default); exit codes recorded; executionStoppedAt
//	         ▼
//	DEPROVISIONING ───── awsvpc only: RemoveTaskNetwork
//	         │
//	         ▼
//	STOPPED ──────────── after Config.CleanupAfter (default 2m, kept for
//	                     logs and inspection): remove the containers,
//	                     task-scoped volumes and task-level resources (the
//	                     task cgroup); the task's final report (only
//	                     it) is remembered for Config.ForgetAfter, at
//	                     most Config.MaxFinished of them, so that it
//	                     never runs again
//
// Container reasons follow ECS: "CannotPullContainerError: <daemon
// message>", "CannotCreateContainerError: ...", "CannotStartContainerError:
// ...", "OutOfMemoryError: Container killed due to memory usage",
// "ResourceInitializationError: ..." (task network, volumes, secrets).
// OutOfMemoryError follows the driver's OOM fact (the state's OOMKilled or
// an oom event of the container's last run, which Docker can deliver after
// the exit), whatever the exit code: a shell or init parent can exit with
// its own code after the kernel killed its child. An
// essential container that never started gives its reason to the task; a
// non-essential one that fails (to pull, say) is reported STOPPED with its
// reason and the task goes on, but containers whose dependsOn conditions it
// can no longer meet fail in turn. A condition can no longer be met when the
// dependency will never start (START, COMPLETE, SUCCESS, HEALTHY), exited
// non-zero (SUCCESS), stopped before it was healthy, has no health check or
// is UNHEALTHY (HEALTHY), or did not meet it within its startTimeout; the
// dependent container is then stopped unstarted with the ECS agent's
// "CannotStartContainerError: dependency graph: failed to resolve container
// ordering dependency [dep] for target [app] ..." and the condition, which
// an essential one gives the task as its stoppedReason (TaskFailedToStart).
//
// # Translation
//
// Container definitions (with the task's container overrides applied by
// [ecs.ApplyContainerOverrides]) become [driver.ContainerSpec]s:
// command, entryPoint, environment (+ Config.Secrets and Config.ExtraEnv),
// workingDirectory, user, cpu as CPU shares (clamped to 2..262144; a
// container without units in a task with a task-level cpu gets the task's),
// memory (hard limit), memoryReservation, linuxParameters.maxSwap, ulimits,
// restartPolicy (see below), readonlyRootFilesystem, privileged,
// mountPoints (host sourcePath → bind;
// an empty host volume or a task-scoped dockerVolumeConfiguration → a Docker
// volume per task, removed with the task; a shared one → a named volume
// that is kept), volumesFrom, healthCheck (CMD / CMD-SHELL, ECS's defaults
// 30s/5s/3/0), stopTimeout, dockerLabels, hostname, dnsServers, extraHosts,
// linuxParameters initProcessEnabled/capabilities/tmpfs, disableNetworking.
// Images go through Config.ImageRewrite, and credentials come from
// Config.RegistryAuth (asked with the definition's image name).
//
// The task-level cpu and memory (the definition's, or the task's overrides)
// become [driver.TaskResources] (ID: the task ID, see [TaskResourcesID]) on
// every container of the task: limits the containers share, as the ECS
// agent's task cgroup enforces them (the Docker driver's /berth/<task id>;
// cpu as a CFS quota of units/1024 CPUs, memory as a hard limit). A
// container that takes the task over its memory is OOM-killed and reported
// like one over its own limit: exit code 137, "OutOfMemoryError: Container
// killed due to memory usage", and an essential one stops the task with
// "Essential container in task exited" (on cgroup v1, Docker also flags the
// task's other running containers as OOM-killed, so they report the same
// reason when they stop, as on ECS). The resources are removed with the
// task's containers at cleanup, for adopted orphans too.
//
// Network modes: awsvpc tasks get a task network and their containers join
// it (its address is TaskChange.PrivateIPv4, where their ports are reached;
// they have networkBindings only where the driver also publishes them on
// 127.0.0.1, see driver.TaskNetworkSpec); bridge containers publish
// their port mappings (hostPort 0 or absent → a dynamic port, reported);
// host and none are passed through (host mode reports hostPort =
// containerPort).
//
// Containers carry the driver's labels ([driver.LabelTaskARN],
// [driver.LabelContainerName], [driver.LabelCluster],
// [driver.LabelInstance]), the runner's (Label*: essential, stop timeout,
// dependencies, task volumes, ...) and the ECS agent's
// (com.amazonaws.ecs.*).
//
// # Container restart policies
//
// A container whose definition enables a restartPolicy is restarted in
// place (the same container, started again) when it exits, as the ECS
// agent does, if: the task is not stopping (its desired status is not
// STOPPED and no essential container stopped it), its exit code is not in
// ignoredExitCodes, and its run (the driver's StartedAt to FinishedAt)
// lasted at least restartAttemptPeriod (default 300s; RegisterTaskDefinition
// keeps it within 60..1800s, the runner takes it as given). Otherwise its
// exit is handled as usual. A restarted container stays RUNNING in the
// reports, with ContainerChange.RestartCount counting its restarts, and an
// essential one does not stop the task. The policy is also in the
// container's labels ([LabelRestartPolicy]), so adopted containers keep it
// (their count starts again at 0).
//
// # Restarts
//
// After an agent restart, [Runner.Adopt] lists this instance's containers
// and task networks by label and rebuilds the tasks from them, without
// creating or starting anything (but a container that exited meanwhile is
// restarted if its restart policy says so). Until its spec is applied again an
// adopted task is judged from its labels (an essential container exiting
// still stops it, in dependency order); one that is not applied again
// within Config.OrphanGrace (default 1m) is an orphan and is stopped and
// removed. Adopt also prunes the task-level resources (task cgroups) that
// no container uses any more, e.g. of tasks whose containers were removed
// while the agent was down. Applying a task without Adopt is also safe:
// its actor finds the existing containers first.
//
// With Config.StateDir the runner also records, per task, the containers
// it created and started (as the ECS agent's state file does), so that
// Adopt tells a container removed while the agent was down from one never
// created: a removed one that had started is reported STOPPED with
// ReasonContainerRemoved and its runtime ID, as on a live runner (an
// essential one stops the task with EssentialContainerExited); one that
// never started is created again. Without StateDir such a container is
// created again.
//
// # Sharing a daemon
//
// Config.Owner, the identity of the berth data directory (server or
// agent, see [driver.LoadOwner]), labels every container, task network
// and task-scoped volume the runner creates ([driver.LabelOwner]), and
// the runner adopts, watches and removes only what carries it. Berth
// servers and agents on one Docker daemon, even with the same cluster
// names and instance ARNs, never touch each other's tasks; the Docker
// driver keeps their task cgroups apart too (/berth/<owner>/<task id>).
//
// An awsvpc task whose network sandbox dies or is removed behind the
// runner's back (the driver reports its die or destroy; a resync inspects
// it) stops with ReasonNetworkLost, as ECS stops a task whose ENI is gone:
// its containers would be left with only a loopback interface.
//
// # Not supported
//
// Links, port ranges, devices, sharedMemorySize, swappiness,
// pidMode/ipcMode, systemControls, log configuration (logs stay with the
// driver), environment files, EFS/FSx volumes, Docker volume drivers other
// than the default, and image digests (the driver does not report them).
package runner
