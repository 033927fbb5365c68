package ecs

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Registration rules: what ECS makes of what an agent registers.

// AttrExternal is the capability an ECS Anywhere agent (ECS_EXTERNAL)
// advertises: the instance is external, not an EC2 instance.
const AttrExternal = "ecs.capability.external"

// External reports whether the registration comes from an ECS Anywhere
// agent, which advertises AttrExternal.
func (reg InstanceRegistration) External() bool {
	return slices.ContainsFunc(reg.Attributes, func(a Attribute) bool { return a.Name == AttrExternal })
}

// IsExternal reports whether an instance is an ECS Anywhere instance.
func (ci *ContainerInstance) IsExternal() bool {
	_, ok := ci.Attribute(AttrExternal)
	return ok
}

// CompleteRegistration fills in what ECS derives rather than the agent
// sends: the host's ID (an EC2 instance ID, "i-" and 17 hex digits, from
// the identity document or made up; an external instance's is a managed
// instance ID, "mi-" and 17 hex digits, as Systems Manager names it) and,
// for an EC2 instance, an availability zone in the region. hex17 is 17
// random hex digits.
func CompleteRegistration(reg InstanceRegistration, region, hex17 string) InstanceRegistration {
	if reg.External() {
		if !strings.HasPrefix(reg.EC2InstanceID, "mi-") {
			reg.EC2InstanceID = "mi-" + hex17
		}
		// An external host has no EC2 placement.
		reg.InstanceType, reg.AvailabilityZone = "", ""
		return reg
	}
	if reg.EC2InstanceID == "" {
		reg.EC2InstanceID = "i-" + hex17
	}
	if reg.AvailabilityZone == "" {
		reg.AvailabilityZone = region + "a"
	}
	return reg
}

// LaunchTypeFits reports whether a task of the launch type may run on the
// instance: EXTERNAL tasks only on external instances, EC2 tasks (and
// berth's FARGATE tasks on its managed capacity) only on the others.
func LaunchTypeFits(launchType string, ci *ContainerInstance) bool {
	if launchType == LaunchExternal {
		return ci.IsExternal()
	}
	return !ci.IsExternal()
}

// SetVersionInfo records the agent and Docker versions an agent reports
// (on its ACS session); empty fields keep what the instance has. It
// reports whether anything changed.
func (ci *ContainerInstance) SetVersionInfo(v VersionInfo) bool {
	next := ci.VersionInfo
	if v.AgentVersion != "" {
		next.AgentVersion = v.AgentVersion
	}
	if v.AgentHash != "" {
		next.AgentHash = v.AgentHash
	}
	if v.DockerVersion != "" {
		next.DockerVersion = v.DockerVersion
	}
	if next == ci.VersionInfo {
		return false
	}
	ci.VersionInfo = next
	ci.Version++
	return true
}

// BerthAgentCapabilities are the capability attributes berth's own agent
// advertises: what its runner runs, and the Docker remote API versions up
// to the daemon's (dockerAPIVersion, e.g. "1.41"; "" when unknown, taken
// as 1.44). privileged is whether it runs privileged containers.
//
// Some are accepted but degraded, so that common task definitions place
// on berth's agent as on ECS: log configurations run with Docker's default
// log driver, task and execution roles get no credentials endpoint,
// secrets are injected only where the runner has a resolver, and S3
// environment files and pid/ipc modes are ignored. Execute-command, which
// berth does not have at all, is not advertised.
func BerthAgentCapabilities(dockerAPIVersion string, privileged bool) []Attribute {
	caps := []string{
		"com.amazonaws.ecs.capability.ecr-auth",
		"com.amazonaws.ecs.capability.task-iam-role",
		"com.amazonaws.ecs.capability.task-iam-role-network-host",
		"ecs.capability.execution-role-ecr-pull",
		"ecs.capability.execution-role-awslogs",
		"ecs.capability.task-eni",
		"ecs.capability.container-health-check",
		"ecs.capability.secrets.asm.environment-variables",
		"ecs.capability.secrets.ssm.environment-variables",
		"ecs.capability.secrets.asm.bootstrap.log-driver",
		"ecs.capability.secrets.ssm.bootstrap.log-driver",
		"ecs.capability.private-registry-authentication.secretsmanager",
		"ecs.capability.container-ordering",
		"ecs.capability.docker-plugin.local",
		"ecs.capability.task-cpu-mem-limit",
		"ecs.capability.full-sync",
		"ecs.capability.env-files.s3",
		"ecs.capability.pid-ipc-namespace-sharing",
		"ecs.capability.increased-task-cpu-limit",
		"ecs.capability.container-port-range",
		"ecs.capability.container-restart-policy",
	}
	if privileged {
		caps = append(caps, "com.amazonaws.ecs.capability.privileged-container")
	}
	for _, d := range []string{"json-file", "syslog", "journald", "gelf", "fluentd", "awslogs", "splunk", "awsfirelens", "none"} {
		caps = append(caps, "com.amazonaws.ecs.capability.logging-driver."+d)
	}
	maxMinor := 44
	if major, minor, ok := strings.Cut(dockerAPIVersion, "."); ok && major == "1" {
		if n, err := strconv.Atoi(minor); err == nil {
			maxMinor = min(n, maxMinor)
		}
	}
	for v := 17; v <= maxMinor; v++ {
		caps = append(caps, fmt.Sprintf("com.amazonaws.ecs.capability.docker-remote-api.1.%d", v))
	}
	slices.Sort(caps)
	out := make([]Attribute, len(caps))
	for i, c := range caps {
		out[i] = Attribute{Name: c}
	}
	return out
}

// isCapability reports whether an attribute is an agent capability (as
// opposed to ECS's own attributes and the user's custom ones).
func isCapability(name string) bool {
	return strings.HasPrefix(name, "ecs.capability.") || strings.HasPrefix(name, "com.amazonaws.ecs.capability.")
}

// Reregister applies what a restarted agent registers again: its
// capabilities replace the ones it advertised before (a capability it no
// longer sends is gone), other attributes it sends are put on top, and
// custom attributes stay.
func (ci *ContainerInstance) Reregister(attrs []Attribute) error {
	if err := ValidateAttributes(attrs); err != nil {
		return err
	}
	kept := slices.DeleteFunc(slices.Clone(ci.Attributes), func(a Attribute) bool { return isCapability(a.Name) })
	ci.Attributes = mergeAttributes(kept, attrs)
	ci.Version++
	return nil
}
