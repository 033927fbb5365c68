package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/ecs"
)

// reconcileStart moves a task towards RUNNING: task network, volumes,
// images, then containers as their dependencies allow.
func (t *taskRun) reconcileStart(ctx context.Context) {
	p := t.plan
	d := t.r.cfg.Driver
	// The task network (sandbox) starts while the volumes, images and
	// containers are prepared: containers join it by name (the driver
	// resolves a task network's name when the container starts), and none
	// starts before it is up.
	netPending := p.network != nil && t.net == nil
	if netPending && !t.netBusy {
		t.netBusy = true
		spec := *p.network
		t.launch(t.startContext(ctx), func(ctx context.Context) opResult {
			n, err := d.CreateTaskNetwork(ctx, spec)
			return opResult{kind: opNetwork, net: &n, err: err}
		})
	}
	if !t.volsReady {
		if len(p.volumes) == 0 {
			t.volsReady = true
		} else {
			if !t.volsBusy {
				t.volsBusy = true
				vols := slices.Clone(p.volumes)
				t.launch(t.startContext(ctx), func(ctx context.Context) opResult {
					for _, v := range vols {
						if err := d.CreateVolume(ctx, v.name, v.labels); err != nil {
							return opResult{kind: opVolumes, err: fmt.Errorf("failed to create volume %s: %w", v.name, err)}
						}
					}
					return opResult{kind: opVolumes}
				})
			}
			return
		}
	}

	// Images, once per distinct image.
	for _, c := range t.ctrs {
		if c.plan == nil || c.phase != phPending || c.busy {
			continue
		}
		s := t.image(c.image)
		if s == nil {
			s = &imageStatus{image: c.image}
			t.images = append(t.images, s)
		}
		switch s.state {
		case imgNone:
			s.state = imgPulling
			if t.pullStartedAt.IsZero() {
				t.pullStartedAt = t.now()
			}
			t.launch(t.startContext(ctx), t.pullOp(t.task, c.image, c.plan.sourceImage))
		case imgFailed:
			c.stop(nil, s.reason)
		}
	}
	t.notePullsDone()

	now := time.Now()
	for _, c := range t.ctrs {
		if c.plan == nil || c.busy {
			continue
		}
		switch c.phase {
		case phPending:
			if s := t.image(c.image); s == nil || s.state != imgReady {
				continue
			}
			ready := true
			for _, src := range c.plan.volumesFrom {
				sc := t.ctr(src)
				switch {
				case sc != nil && sc.id != "":
				case sc == nil || sc.phase == phStopped:
					c.stop(nil, fmt.Sprintf("CannotCreateContainerError: volumesFrom container %s was never created", src))
					ready = false
				default:
					ready = false
				}
			}
			if ready {
				c.busy = true
				t.launch(t.startContext(ctx), t.createOp(c))
			}
		case phCreated:
			if netPending && c.plan.spec.Network.Mode == driver.NetworkModeAWSVPC {
				continue
			}
			ok, why := t.depsReady(c, now)
			switch {
			case why != "":
				c.stop(nil, why)
			case ok:
				c.busy = true
				id := c.id
				name := c.name
				led, arn, log := t.r.ledger, t.arn, t.logger
				t.launch(t.startContext(ctx), func(ctx context.Context) opResult {
					res := opResult{kind: opStart, ctr: name}
					// Recorded first: a container that may have started is
					// one whose removal must not go unnoticed.
					if err := led.Started(arn, name, id); err != nil {
						log().Warn("cannot record a started container", "container", name, "error", err)
					}
					if err := d.StartContainer(ctx, id); err != nil {
						res.err = err
						res.reason = "CannotStartContainerError: " + err.Error()
					}
					if st, err := d.InspectContainer(ctx, id); err == nil {
						res.state = &st
					}
					return res
				})
			}
		}
	}
}

// pullOp makes an image available according to the pull behavior.
func (t *taskRun) pullOp(task *ecs.Task, image, source string) func(ctx context.Context) opResult {
	cfg := t.r.cfg
	log := t.logger
	return func(ctx context.Context) opResult {
		res := opResult{kind: opImage, image: image}
		d := cfg.Driver
		var auth driver.RegistryAuth
		if cfg.RegistryAuth != nil {
			a, ok, err := cfg.RegistryAuth(ctx, task, source)
			if err != nil {
				res.err = err
				res.reason = "ResourceInitializationError: unable to pull secrets or registry auth: " + err.Error()
				return res
			}
			if ok {
				auth = a
			}
		}
		if cfg.PullBehavior == PullPreferCached {
			present, err := d.ImagePresent(ctx, image)
			if err == nil && present {
				return res
			}
		}
		err := d.PullImage(ctx, image, auth)
		if err == nil {
			return res
		}
		if cfg.PullBehavior == PullDefault {
			if present, perr := d.ImagePresent(ctx, image); perr == nil && present {
				log().Warn("image pull failed; using the cached image", "image", image, "error", err)
				return res
			}
		}
		res.err = err
		res.reason = "CannotPullContainerError: " + err.Error()
		return res
	}
}

// createOp creates c's container.
func (t *taskRun) createOp(c *ctr) func(ctx context.Context) opResult {
	cfg := t.r.cfg
	d := cfg.Driver
	spec := c.plan.spec
	spec.Env = maps.Clone(spec.Env)
	if spec.Network.Mode == driver.NetworkModeAWSVPC {
		switch {
		case t.net != nil:
			spec.Network.TaskNetworkID = t.net.ID
		case t.plan.network != nil:
			// Being created: joined by name (see reconcileStart).
			spec.Network.TaskNetworkID = t.plan.network.Name
		}
	}
	secrets := c.plan.secrets
	logConfig := c.plan.logConfig
	task := t.task
	name := c.name
	log := t.logger
	led, arn, essential := t.r.ledger, t.arn, c.essential
	return func(ctx context.Context) opResult {
		res := opResult{kind: opCreate, ctr: name}
		if len(secrets) > 0 {
			if cfg.Secrets == nil {
				log().Warn("container secrets are not injected: no secrets resolver configured", "container", name, "secrets", len(secrets))
			} else {
				env, err := cfg.Secrets(ctx, task, name, secrets)
				if err != nil {
					res.err = err
					res.reason = "ResourceInitializationError: unable to pull secrets or registry auth: " + err.Error()
					return res
				}
				if spec.Env == nil {
					spec.Env = map[string]string{}
				}
				maps.Copy(spec.Env, env)
			}
		}
		if logConfig != nil && cfg.LogSetup != nil {
			if err := cfg.LogSetup(ctx, task, name, logConfig); err != nil {
				res.err = err
				res.reason = logSetupReason(task, err)
				return res
			}
		}
		id, err := d.CreateContainer(ctx, spec)
		if err != nil {
			res.err = err
			res.reason = "CannotCreateContainerError: " + err.Error()
			return res
		}
		res.id = id
		if err := led.Created(arn, name, id, essential); err != nil {
			log().Warn("cannot record a created container", "container", name, "error", err)
		}
		return res
	}
}

// logSetupReason is ECS's reason for a container whose log driver could
// not start: Docker's words on EC2, the Fargate agent's on Fargate.
func logSetupReason(task *ecs.Task, err error) string {
	switch {
	case errors.Is(err, ErrExecutionRole):
		return "ResourceInitializationError: unable to pull secrets or registry auth: " + err.Error()
	case task.LaunchType == "FARGATE":
		return "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: " + err.Error() + " : exit status 1"
	}
	return "CannotStartContainerError: Error response from daemon: failed to initialize logging driver: " + err.Error()
}

// depsReady reports whether c's dependsOn conditions are met, or why they
// never will be, in the ECS agent's words (its dependency graph's
// "failed to resolve container ordering dependency [x] for target [c]"),
// naming the dependency and the condition.
func (t *taskRun) depsReady(c *ctr, now time.Time) (bool, string) {
	ready := true
	for _, dep := range c.dependsOn {
		x := t.ctr(dep.ContainerName)
		if x == nil {
			return false, fmt.Sprintf("CannotStartContainerError: dependency graph: container ordering dependency [%s] for target [%s] does not exist", dep.ContainerName, c.name)
		}
		met, never := false, ""
		switch dep.Condition {
		case "START":
			met = x.started
			if !met && x.phase == phStopped {
				never = "because dependency will never start"
			}
		case "COMPLETE":
			met = x.phase == phStopped && x.started
			if x.phase == phStopped && !x.started {
				never = "because dependency will never start"
			}
		case "SUCCESS":
			if x.phase == phStopped {
				switch {
				case !x.started:
					never = "because dependency will never start"
				case x.exitCode != nil && *x.exitCode == 0:
					met = true
				case x.exitCode != nil:
					never = "as dependency did not exit successfully (exit code " + strconv.Itoa(*x.exitCode) + ")"
				default:
					never = "as dependency did not exit successfully (exit code unknown)"
				}
			}
		case "HEALTHY":
			met = x.started && x.health == driver.HealthHealthy
			switch {
			case met:
			case x.phase == phStopped:
				never = "as dependency stopped before it was healthy"
			case !x.healthCheck && x.phase >= phCreated:
				never = "as dependency has no health check"
			case x.health == driver.HealthUnhealthy:
				// Docker's verdict after the check's retries, past its
				// start period: the dependency failed its health check.
				never = "as dependency is UNHEALTHY"
			}
		default:
			never = "as the condition " + dep.Condition + " is unknown"
		}
		if !met && never == "" && x.startTimeout > 0 {
			ref := x.startedReal
			if ref.IsZero() {
				ref = t.specAt
			}
			deadline := ref.Add(x.startTimeout)
			if now.After(deadline) {
				return false, fmt.Sprintf("CannotStartContainerError: dependency graph: container ordering dependency [%s] for target [%s] has timed out (condition %s, startTimeout %s)",
					dep.ContainerName, c.name, dep.Condition, x.startTimeout)
			}
			t.wakeBy(deadline)
		}
		if never != "" {
			return false, fmt.Sprintf("CannotStartContainerError: dependency graph: failed to resolve container ordering dependency [%s] for target [%s] %s (condition %s)",
				dep.ContainerName, c.name, never, dep.Condition)
		}
		ready = ready && met
	}
	return ready, ""
}

// dependentsDown reports whether every container that depends on x has
// stopped, so that x may stop (dependencies stop in reverse order).
func (t *taskRun) dependentsDown(x *ctr) bool {
	for _, y := range t.ctrs {
		if y == x || (y.phase != phRunning && !y.busy) {
			continue
		}
		for _, dep := range y.dependsOn {
			if dep.ContainerName == x.name {
				return false
			}
		}
	}
	return true
}

func (t *taskRun) allStopped() bool {
	for _, c := range t.ctrs {
		if c.phase != phStopped {
			return false
		}
	}
	return true
}
