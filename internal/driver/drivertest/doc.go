// Package drivertest is the conformance suite of [driver.Driver]
// implementations. Every driver runs it in three lines:
//
//	func TestConformance(t *testing.T) {
//		d, env := newDriverAndEnv(t)
//		drivertest.Run(t, d, env)
//	}
//
// The [Env] says which images to use and which capabilities the driver
// really has (executing commands, enforcing memory limits, networking,
// sharing task-level limits between a task's containers);
// checks that need a missing capability are skipped, so that the in-memory
// fake driver passes the lifecycle, idempotency, labelling, event and
// task-network bookkeeping checks while the Docker driver passes all of
// them against real containers.
//
// The container commands assume a busybox userland in Env.Image (sh, sleep,
// httpd, wget, head, tail, tr, mkfifo, id, pwd, test, ulimit); see
// internal/driver/docker/dockertest for an image built offline from the
// host's busybox.
package drivertest
