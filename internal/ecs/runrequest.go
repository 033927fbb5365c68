package ecs

import (
	"slices"
	"strings"
)

// EffectiveLaunchType returns the launch type a request runs with: its
// launch type, FARGATE for the Fargate capacity providers, or EC2.
func (r RunRequest) EffectiveLaunchType() string {
	switch {
	case r.LaunchType != "":
		return r.LaunchType
	case r.CapacityProviderName == CapacityFargate || r.CapacityProviderName == CapacityFargateSpot:
		return LaunchFargate
	}
	return LaunchEC2
}

// ValidateRunRequest checks a run request against the task definition it
// runs, as RunTask does before placing anything.
func ValidateRunRequest(td *TaskDefinition, req RunRequest) error {
	if req.Count < 0 || req.Count > MaxRunCount {
		return invalidParam("Count must be between 1 and %d.", MaxRunCount)
	}
	if req.LaunchType != "" && req.CapacityProviderName != "" {
		return invalidParam("Specifying both a launchType and capacityProviderStrategy is not supported.")
	}
	lt := req.EffectiveLaunchType()
	switch lt {
	case LaunchEC2, LaunchFargate, LaunchExternal:
	default:
		return invalidParam("Invalid launch type %q. Valid values: EC2, FARGATE, EXTERNAL.", lt)
	}
	if !slices.Contains(td.Compatibilities, lt) {
		return invalidParam("Task definition does not support launch_type %s.", lt)
	}
	if err := validateNetworkConfiguration(td, req.NetworkConfiguration); err != nil {
		return err
	}
	if lt == LaunchFargate {
		switch req.PlatformVersion {
		case "", "LATEST", "1.4.0", "1.3.0":
		default:
			return invalidParam("The specified platform version (%s) does not exist.", req.PlatformVersion)
		}
	} else if req.PlatformVersion != "" {
		return invalidParam("The platform version must be null when specifying an %s launch type.", lt)
	}
	if len(req.StartedBy) > 128 {
		return invalidParam("startedBy can be up to 128 characters.")
	}
	if len(req.Group) > 255 {
		return invalidParam("group can be up to 255 characters.")
	}
	if err := ValidateTags(req.Tags); err != nil {
		return err
	}
	if err := ValidatePlacement(lt, req.PlacementConstraints, req.PlacementStrategy); err != nil {
		return err
	}
	_, err := ApplyContainerOverrides(td, req.Overrides, lt)
	return err
}

func validateNetworkConfiguration(td *TaskDefinition, nc *NetworkConfiguration) error {
	if td.NetworkMode != NetworkAwsvpc {
		if nc != nil && nc.AwsvpcConfiguration != nil {
			return invalidParam("Network Configuration is not valid for the given networkMode of this task definition.")
		}
		return nil
	}
	if nc == nil || nc.AwsvpcConfiguration == nil {
		return invalidParam("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	}
	vpc := nc.AwsvpcConfiguration
	if len(vpc.Subnets) == 0 {
		return invalidParam("subnets can not be empty.")
	}
	if len(vpc.Subnets) > 16 {
		return invalidParam("At most 16 subnets can be specified.")
	}
	if len(vpc.SecurityGroups) > 5 {
		return invalidParam("At most 5 security groups can be specified.")
	}
	switch vpc.AssignPublicIP {
	case "", "ENABLED", "DISABLED":
	default:
		return invalidParam("Invalid assignPublicIp value %q. Valid values: ENABLED, DISABLED.", vpc.AssignPublicIP)
	}
	return nil
}

// ValidatePlacement checks placement constraints and strategies as RunTask
// and CreateService do: known types, parsable memberOf expressions, at most
// ten constraints and five strategies, and none of them for Fargate.
func ValidatePlacement(launchType string, constraints []PlacementConstraint, strategies []PlacementStrategy) error {
	if launchType == LaunchFargate && (len(constraints) > 0 || len(strategies) > 0) {
		return invalidParam("Task placement constraints and strategies are not supported for tasks using the Fargate launch type.")
	}
	if len(constraints) > MaxPlacementConstraints {
		return invalidParam("At most %d placement constraints can be specified.", MaxPlacementConstraints)
	}
	for _, c := range constraints {
		switch c.Type {
		case ConstraintDistinctInstance:
			if c.Expression != "" {
				return invalidParam("Expression cannot be specified for the distinctInstance placement constraint.")
			}
		case ConstraintMemberOf:
			if c.Expression == "" {
				return invalidParam("Expression must be specified for the memberOf placement constraint.")
			}
			if _, err := ParseQuery(c.Expression); err != nil {
				return err
			}
		default:
			return invalidParam("Invalid placement constraint type %q. Valid values: distinctInstance, memberOf.", c.Type)
		}
	}
	if len(strategies) > MaxPlacementStrategies {
		return invalidParam("At most %d placement strategies can be specified.", MaxPlacementStrategies)
	}
	for _, s := range strategies {
		switch s.Type {
		case StrategyRandom:
			if s.Field != "" {
				return invalidParam("Field cannot be specified for the random placement strategy.")
			}
		case StrategyBinpack:
			if f := strings.ToLower(s.Field); f != "cpu" && f != "memory" {
				return invalidParam("Invalid field %q for the binpack placement strategy. Valid values: cpu, memory.", s.Field)
			}
		case StrategySpread:
			switch {
			case s.Field == "":
				return invalidParam("Field must be specified for the spread placement strategy.")
			case strings.EqualFold(s.Field, "instanceId"), strings.EqualFold(s.Field, "host"):
			case strings.HasPrefix(s.Field, "attribute:") && len(s.Field) > len("attribute:"):
			default:
				return invalidParam("Invalid field %q for the spread placement strategy. Valid values: instanceId, host, attribute:<name>.", s.Field)
			}
		default:
			return invalidParam("Invalid placement strategy type %q. Valid values: random, spread, binpack.", s.Type)
		}
	}
	return nil
}

// ApplyContainerOverrides validates task overrides against a task definition
// and returns the container definitions with the overrides applied (command
// replaced, environment merged by name, environment files appended, cpu and
// memory replaced). td is not modified. launchType decides whether the
// task-level size must be a Fargate size.
func ApplyContainerOverrides(td *TaskDefinition, o *TaskOverride, launchType string) ([]ContainerDefinition, error) {
	out := make([]ContainerDefinition, len(td.ContainerDefinitions))
	copy(out, td.ContainerDefinitions)
	taskCPU, taskMem, err := taskSize(td, o)
	if err != nil {
		return nil, err
	}
	if launchType == LaunchFargate && !FargateSizeValid(taskCPU, taskMem) {
		return nil, invalidParam("No Fargate configuration exists for given values: %d CPU, %d memory. See the Amazon ECS documentation for the valid values.", taskCPU, taskMem)
	}
	if o == nil {
		return out, nil
	}
	if o.EphemeralStorage != nil && (o.EphemeralStorage.SizeInGiB < 21 || o.EphemeralStorage.SizeInGiB > 200) {
		return nil, invalidParam("The ephemeral storage size must be between 21 and 200 GiB.")
	}
	seen := map[string]bool{}
	for _, co := range o.ContainerOverrides {
		if co.Name == "" {
			return nil, invalidParam("Container overrides must name the container they override.")
		}
		i := slices.IndexFunc(out, func(c ContainerDefinition) bool { return c.Name == co.Name })
		if i < 0 {
			return nil, invalidParam("Override for container named %s is not a container in the TaskDefinition.", co.Name)
		}
		if seen[co.Name] {
			return nil, invalidParam("Container %s is overridden more than once.", co.Name)
		}
		seen[co.Name] = true
		c := &out[i]
		if co.Command != nil {
			c.Command = slices.Clone(co.Command)
		}
		for _, e := range co.Environment {
			if e.Name == "" {
				return nil, invalidParam("Environment variable name cannot be empty in the override of container %s.", co.Name)
			}
		}
		if len(co.Environment) > 0 {
			c.Environment = mergeEnv(c.Environment, co.Environment)
		}
		if len(co.EnvironmentFiles) > 0 {
			c.EnvironmentFiles = append(slices.Clone(c.EnvironmentFiles), co.EnvironmentFiles...)
		}
		if co.CPU != nil {
			if *co.CPU < 0 {
				return nil, invalidParam("Invalid 'cpu' override for container %s.", co.Name)
			}
			c.CPU = *co.CPU
		}
		if co.Memory != nil {
			if *co.Memory < 6 {
				return nil, invalidParam("Invalid 'memory' override for container %s. The memory hard limit must be at least 6 MiB.", co.Name)
			}
			v := *co.Memory
			c.Memory = &v
		}
		if co.MemoryReservation != nil {
			if *co.MemoryReservation < 6 {
				return nil, invalidParam("Invalid 'memoryReservation' override for container %s. The memory reservation must be at least 6 MiB.", co.Name)
			}
			v := *co.MemoryReservation
			c.MemoryReservation = &v
		}
		if c.Memory != nil && c.MemoryReservation != nil && *c.MemoryReservation > *c.Memory {
			return nil, invalidParam("Invalid setting for container %s. 'memoryReservation' must be less than or equal to 'memory'.", co.Name)
		}
		if taskMem > 0 && c.Memory != nil && *c.Memory > taskMem && (td.Memory != "" || o.Memory != "") {
			return nil, invalidParam("Invalid setting for container %s. The container memory (%d) exceeds the task memory (%d).", co.Name, *c.Memory, taskMem)
		}
		if len(co.ResourceRequirements) > 0 {
			c.ResourceRequirements = slices.Clone(co.ResourceRequirements)
		}
	}
	return out, nil
}

func mergeEnv(base, over []KeyValuePair) []KeyValuePair {
	out := slices.Clone(base)
	for _, e := range over {
		if i := slices.IndexFunc(out, func(b KeyValuePair) bool { return b.Name == e.Name }); i >= 0 {
			out[i].Value = e.Value
		} else {
			out = append(out, e)
		}
	}
	return out
}

// taskSize returns the task-level cpu units and memory MiB a task runs with:
// the override, else the definition's task-level size, else the sum over
// its containers (memoryReservation when set, else memory).
func taskSize(td *TaskDefinition, o *TaskOverride) (cpu, mem int, err error) {
	cpuStr, memStr := td.CPU, td.Memory
	if o != nil && o.CPU != "" {
		cpuStr = o.CPU
	}
	if o != nil && o.Memory != "" {
		memStr = o.Memory
	}
	if cpuStr != "" {
		if cpu, err = ParseCPU(cpuStr); err != nil {
			return 0, 0, invalidParam("Invalid 'cpu' override for task. Value: %s", cpuStr)
		}
	}
	if memStr != "" {
		if mem, err = ParseMemory(memStr); err != nil {
			return 0, 0, invalidParam("Invalid 'memory' override for task. Value: %s", memStr)
		}
	}
	if cpuStr != "" && memStr != "" {
		return cpu, mem, nil
	}
	byName := map[string]ContainerOverride{}
	if o != nil {
		for _, co := range o.ContainerOverrides {
			byName[co.Name] = co
		}
	}
	sumCPU, sumMem := 0, 0
	for _, c := range td.ContainerDefinitions {
		co := byName[c.Name]
		cc := c.CPU
		if co.CPU != nil {
			cc = *co.CPU
		}
		sumCPU += cc
		hard, soft := c.Memory, c.MemoryReservation
		if co.Memory != nil {
			hard = co.Memory
		}
		if co.MemoryReservation != nil {
			soft = co.MemoryReservation
		}
		switch {
		case soft != nil:
			sumMem += *soft
		case hard != nil:
			sumMem += *hard
		}
	}
	if cpuStr == "" {
		cpu = sumCPU
	}
	if memStr == "" {
		mem = sumMem
	}
	return cpu, mem, nil
}
