// Package fake is an in-memory [driver.Driver] for scheduler tests and
// benchmarks at scale (tens of thousands of tasks). Nothing is executed:
// containers start instantly and run until they are stopped, unless a test
// scripts their fate.
//
// Construct it with [New] or through the registry as "fake":
//
//	d := fake.New(fake.Options{Images: []string{"nginx:latest"}})
//
// Scripting, declaratively per container with the OnStart hook:
//
//	d.OnStart = func(id string, spec driver.ContainerSpec) fake.Behavior {
//		if spec.Labels[driver.LabelContainerName] == "migrate" {
//			return fake.Behavior{ExitAfter: 10 * time.Millisecond, ExitCode: 0}
//		}
//		return fake.Behavior{Health: driver.HealthUnhealthy}
//	}
//
// or imperatively at any time with [Driver.Exit], [Driver.OOMKill],
// [Driver.SetHealth] and [Driver.FailPull]. Every state change emits the
// event Docker would ("start", "die", "oom", "health_status", "destroy")
// to the WaitEvents subscribers.
//
// Task-level limits ([driver.TaskResources]) are recorded, not enforced:
// [Driver.TaskResources] returns a task's until RemoveTaskResources, which,
// like a cgroup still in use, fails with ErrConflict while one of the
// task's containers runs, or PruneTaskResources.
//
// The driver is safe for concurrent use. Hooks are called without the
// driver's lock held, so they may call back into the driver; set them
// before the driver is used.
package fake
