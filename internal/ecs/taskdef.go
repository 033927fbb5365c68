package ecs

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var familyRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
var containerNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// fargateMemory lists, per Fargate task CPU value, the valid memory values (MiB).
var fargateMemory = map[int][]int{}

func init() {
	add := func(cpu, from, to, step int) {
		for m := from; m <= to; m += step {
			fargateMemory[cpu] = append(fargateMemory[cpu], m)
		}
	}
	fargateMemory[256] = []int{512, 1024, 2048}
	add(512, 1024, 4096, 1024)
	add(1024, 2048, 8192, 1024)
	add(2048, 4096, 16384, 1024)
	add(4096, 8192, 30720, 1024)
	add(8192, 16384, 61440, 4096)
	add(16384, 32768, 122880, 8192)
}

// FargateSizeValid reports whether cpu units and memory MiB are a valid
// Fargate task size.
func FargateSizeValid(cpu, memory int) bool { return slices.Contains(fargateMemory[cpu], memory) }

// ParseCPU parses a task-level cpu value: CPU units ("512") or vCPUs
// ("0.5 vCPU", "1 vcpu"). It returns CPU units.
func ParseCPU(s string) (int, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	if v, ok := strings.CutSuffix(t, "vcpu"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f <= 0 {
			return 0, clientErr("Invalid 'cpu' setting for task. Value: %s", s)
		}
		return int(f * 1024), nil
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 {
		return 0, clientErr("Invalid 'cpu' setting for task. Value: %s", s)
	}
	return n, nil
}

// ParseMemory parses a task-level memory value: MiB ("1024") or GB ("1 GB").
func ParseMemory(s string) (int, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	if v, ok := strings.CutSuffix(t, "gb"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f <= 0 {
			return 0, clientErr("Invalid 'memory' setting for task. Value: %s", s)
		}
		return int(f * 1024), nil
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 {
		return 0, clientErr("Invalid 'memory' setting for task. Value: %s", s)
	}
	return n, nil
}

// PrepareTaskDefinition validates a task definition as RegisterTaskDefinition
// receives it and fills ECS's defaults and computed fields. family revision,
// ARN, status and registeredAt are set by the caller (NewRevision).
func PrepareTaskDefinition(td *TaskDefinition) error {
	if err := checkTaskDefinitionSize(td); err != nil {
		return err
	}
	if td.Family == "" {
		return clientErr("Family is a required parameter.")
	}
	if !familyRE.MatchString(td.Family) {
		return clientErr("Family contains invalid characters. Up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.")
	}
	if len(td.ContainerDefinitions) == 0 {
		return clientErr("Container list cannot be empty.")
	}
	if len(td.ContainerDefinitions) > 10 {
		return clientErr("Too many containers. A task definition can have at most 10 container definitions.")
	}
	if td.NetworkMode == "" {
		td.NetworkMode = NetworkBridge
	}
	switch td.NetworkMode {
	case NetworkAwsvpc, NetworkBridge, NetworkHost, NetworkNone:
	default:
		return clientErr("Invalid network mode %q. Valid values: bridge, host, awsvpc, none.", td.NetworkMode)
	}
	for _, c := range td.RequiresCompatibilities {
		switch c {
		case LaunchEC2, LaunchFargate, LaunchExternal:
		default:
			return clientErr("Invalid requiresCompatibilities value %q. Valid values: EC2, FARGATE, EXTERNAL.", c)
		}
	}
	for _, m := range []struct{ name, v string }{{"pidMode", td.PidMode}, {"ipcMode", td.IpcMode}} {
		if m.v != "" && m.v != "host" && m.v != "task" && !(m.name == "ipcMode" && m.v == "none") {
			return clientErr("Invalid %s value %q.", m.name, m.v)
		}
	}

	cpu, mem := 0, 0
	var err error
	if td.CPU != "" {
		if cpu, err = ParseCPU(td.CPU); err != nil {
			return err
		}
		td.CPU = strconv.Itoa(cpu)
	}
	if td.Memory != "" {
		if mem, err = ParseMemory(td.Memory); err != nil {
			return err
		}
		td.Memory = strconv.Itoa(mem)
	}

	if err := checkEphemeralStorage(td); err != nil {
		return err
	}
	if err := prepareVolumes(td); err != nil {
		return err
	}
	if err := prepareContainers(td, mem); err != nil {
		return err
	}
	if err := checkContainerSums(td, cpu, mem); err != nil {
		return err
	}

	fargate := slices.Contains(td.RequiresCompatibilities, LaunchFargate)
	if fargate {
		if err := validateFargate(td, cpu, mem); err != nil {
			return err
		}
	}
	for _, pc := range td.PlacementConstraints {
		if pc.Type != "memberOf" {
			return clientErr("Invalid placement constraint type %q for a task definition. Valid values: memberOf.", pc.Type)
		}
		if fargate {
			return clientErr("Task definition placement constraints are not supported for tasks using the Fargate launch type.")
		}
	}
	if td.Volumes == nil {
		td.Volumes = []Volume{}
	}
	if td.PlacementConstraints == nil {
		td.PlacementConstraints = []PlacementConstraint{}
	}
	td.Compatibilities = compatibilities(td, cpu, mem)
	td.RequiresAttributes = requiredAttributes(td)
	return nil
}

// checkContainerSums applies ECS's rule that what the containers reserve
// fits in the task's size: their cpu units, and their memory reservations
// (memoryReservation, else memory).
func checkContainerSums(td *TaskDefinition, cpu, mem int) error {
	sumCPU, sumMem := 0, 0
	for _, c := range td.ContainerDefinitions {
		sumCPU += c.CPU
		switch {
		case c.MemoryReservation != nil:
			sumMem += *c.MemoryReservation
		case c.Memory != nil:
			sumMem += *c.Memory
		}
	}
	if cpu > 0 && sumCPU > cpu {
		return clientErr("The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'.")
	}
	if mem > 0 && sumMem > mem {
		return clientErr("The sum of all container 'memoryReservation' values cannot be greater than the value of the task 'memory'.")
	}
	return nil
}

// Container restart policy bounds (ContainerRestartPolicy).
const (
	MinRestartAttemptPeriod     = 60
	MaxRestartAttemptPeriod     = 1800
	DefaultRestartAttemptPeriod = 300
	maxIgnoredExitCodes         = 50
)

func validateRestartPolicy(c *ContainerDefinition) error {
	rp := c.RestartPolicy
	if rp == nil {
		return nil
	}
	if len(rp.IgnoredExitCodes) > maxIgnoredExitCodes {
		return clientErr("Invalid 'restartPolicy' setting for container '%s'. 'ignoredExitCodes' can contain at most %d exit codes.", c.Name, maxIgnoredExitCodes)
	}
	if p := rp.RestartAttemptPeriod; p != nil && (*p < MinRestartAttemptPeriod || *p > MaxRestartAttemptPeriod) {
		return clientErr("Invalid 'restartPolicy' setting for container '%s'. 'restartAttemptPeriod' must be between %d and %d seconds.", c.Name, MinRestartAttemptPeriod, MaxRestartAttemptPeriod)
	}
	return nil
}

func validateFargate(td *TaskDefinition, cpu, mem int) error {
	if td.NetworkMode != NetworkAwsvpc {
		return clientErr("Fargate only supports network mode 'awsvpc'.")
	}
	if td.CPU == "" {
		return clientErr("Fargate requires that 'cpu' be defined at the task level.")
	}
	if td.Memory == "" {
		return clientErr("Fargate requires that 'memory' be defined at the task level.")
	}
	if !FargateSizeValid(cpu, mem) {
		return clientErr("No Fargate configuration exists for given values: %d CPU, %d memory. See the Amazon ECS documentation for the valid values.", cpu, mem)
	}
	for _, c := range td.ContainerDefinitions {
		if c.LogConfiguration != nil && c.LogConfiguration.LogDriver == "awslogs" && td.ExecutionRoleARN == "" {
			return clientErr("Fargate requires task definition to have execution role ARN to support log driver awslogs.")
		}
		if len(c.Secrets) > 0 && td.ExecutionRoleARN == "" {
			return clientErr("Fargate requires task definition to have execution role ARN to support secrets.")
		}
		if c.Privileged != nil && *c.Privileged {
			return clientErr("Fargate does not support privileged containers.")
		}
		if c.LinuxParameters != nil && len(c.LinuxParameters.Devices) > 0 {
			return clientErr("Fargate does not support devices in linuxParameters.")
		}
	}
	for _, v := range td.Volumes {
		if v.Host != nil && v.Host.SourcePath != "" {
			return clientErr("Fargate does not support host volumes with a sourcePath. Volume: %s", v.Name)
		}
		if v.DockerVolumeConfiguration != nil {
			return clientErr("Fargate does not support Docker volumes (dockerVolumeConfiguration). Volume: %s", v.Name)
		}
	}
	if td.PidMode == "host" || td.IpcMode != "" {
		return clientErr("Fargate does not support pidMode 'host' or ipcMode.")
	}
	return nil
}

func prepareVolumes(td *TaskDefinition) error {
	names := map[string]bool{}
	for i := range td.Volumes {
		v := &td.Volumes[i]
		if v.Name == "" {
			return clientErr("Volume name is required.")
		}
		if !containerNameRE.MatchString(v.Name) {
			return clientErr("Volume name %q is invalid. Up to 255 letters, numbers, hyphens, and underscores are allowed.", v.Name)
		}
		if names[v.Name] {
			return clientErr("Volume names must be unique. Duplicate volume name: %s", v.Name)
		}
		names[v.Name] = true
		if v.DockerVolumeConfiguration != nil {
			d := v.DockerVolumeConfiguration
			if d.Scope == "" {
				d.Scope = "task"
			}
			if d.Scope != "task" && d.Scope != "shared" {
				return clientErr("Invalid scope %q for Docker volume %s. Valid values: task, shared.", d.Scope, v.Name)
			}
			if d.Scope == "task" && d.Autoprovision != nil && *d.Autoprovision {
				return clientErr("Autoprovision is only supported for shared-scope Docker volumes. Volume: %s", v.Name)
			}
			if d.Driver == "" {
				d.Driver = "local"
			}
		}
		if v.Host == nil && v.DockerVolumeConfiguration == nil && v.EfsVolumeConfiguration == nil && v.FsxWindowsFileServerVolumeConf == nil {
			v.Host = &HostVolumeProperties{}
		}
	}
	return nil
}

func prepareContainers(td *TaskDefinition, taskMem int) error {
	names := map[string]bool{}
	for _, c := range td.ContainerDefinitions {
		if names[c.Name] {
			return clientErr("Container names must be unique. Duplicate container name: %s", c.Name)
		}
		names[c.Name] = true
	}
	volumes := map[string]bool{}
	for _, v := range td.Volumes {
		volumes[v.Name] = true
	}
	essential := false
	hostPorts := map[string]string{} // "port/proto" -> container
	for i := range td.ContainerDefinitions {
		c := &td.ContainerDefinitions[i]
		if c.Name == "" {
			return clientErr("Container.name should not be null or empty.")
		}
		if !containerNameRE.MatchString(c.Name) {
			return clientErr("Container name %q is invalid. Up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.", c.Name)
		}
		if c.Image == "" {
			return clientErr("Container.image should not be null or empty.")
		}
		if strings.ContainsAny(c.Image, " \t\n") || len(c.Image) > 255 {
			return clientErr("Invalid image reference %q for container '%s'.", c.Image, c.Name)
		}
		if c.Essential == nil {
			t := true
			c.Essential = &t
		}
		if *c.Essential {
			essential = true
		}
		if c.CPU < 0 {
			return clientErr("Invalid 'cpu' setting for container '%s'.", c.Name)
		}
		if err := checkContainerIntegers(c); err != nil {
			return err
		}
		if c.Memory != nil && *c.Memory < 6 {
			return clientErr("Invalid 'memory' setting for container '%s'. The memory hard limit must be at least 6 MiB.", c.Name)
		}
		if c.MemoryReservation != nil && *c.MemoryReservation < 6 {
			return clientErr("Invalid 'memoryReservation' setting for container '%s'. The memory reservation must be at least 6 MiB.", c.Name)
		}
		if c.Memory != nil && c.MemoryReservation != nil && *c.MemoryReservation > *c.Memory {
			return clientErr("Invalid setting for container '%s'. 'memoryReservation' must be less than or equal to 'memory'.", c.Name)
		}
		if taskMem == 0 && c.Memory == nil && c.MemoryReservation == nil {
			return clientErr("Invalid setting for container '%s'. At least one of 'memory' or 'memoryReservation' must be specified.", c.Name)
		}
		if taskMem > 0 && c.Memory != nil && *c.Memory > taskMem {
			return clientErr("The 'memory' setting for container '%s' is greater than for the task.", c.Name)
		}
		if err := preparePorts(td.NetworkMode, c, hostPorts); err != nil {
			return err
		}
		for _, e := range c.Environment {
			if e.Name == "" {
				return clientErr("Environment variable name cannot be empty in container '%s'.", c.Name)
			}
		}
		for _, s := range c.Secrets {
			if s.Name == "" || s.ValueFrom == "" {
				return clientErr("Secrets in container '%s' require both 'name' and 'valueFrom'.", c.Name)
			}
		}
		for _, m := range c.MountPoints {
			if !volumes[m.SourceVolume] {
				return clientErr("Invalid 'mountPoints' setting for container '%s'. Unknown volume '%s'.", c.Name, m.SourceVolume)
			}
			if !strings.HasPrefix(m.ContainerPath, "/") {
				return clientErr("Invalid 'mountPoints' setting for container '%s'. containerPath must be an absolute path.", c.Name)
			}
		}
		for _, vf := range c.VolumesFrom {
			if !names[vf.SourceContainer] || vf.SourceContainer == c.Name {
				return clientErr("Invalid 'volumesFrom' setting for container '%s'. Unknown container '%s'.", c.Name, vf.SourceContainer)
			}
		}
		for _, d := range c.DependsOn {
			if !names[d.ContainerName] || d.ContainerName == c.Name {
				return clientErr("Invalid 'dependsOn' setting for container '%s'. Unknown container '%s'.", c.Name, d.ContainerName)
			}
			switch d.Condition {
			case "START", "COMPLETE", "SUCCESS", "HEALTHY":
			default:
				return clientErr("Invalid dependsOn condition %q for container '%s'. Valid values: START, COMPLETE, SUCCESS, HEALTHY.", d.Condition, c.Name)
			}
		}
		if err := prepareHealthCheck(c); err != nil {
			return err
		}
		if err := validateRestartPolicy(c); err != nil {
			return err
		}
		for _, u := range c.Ulimits {
			if u.SoftLimit > u.HardLimit {
				return clientErr("Invalid ulimit %s for container '%s': softLimit must not exceed hardLimit.", u.Name, c.Name)
			}
		}
		if c.LogConfiguration != nil && c.LogConfiguration.LogDriver == "" {
			return clientErr("Log driver is required in the log configuration of container '%s'.", c.Name)
		}
		if c.StopTimeout != nil && (*c.StopTimeout < 0 || *c.StopTimeout > 120) {
			return clientErr("Invalid 'stopTimeout' for container '%s'. Valid range: 0-120 seconds.", c.Name)
		}
		if c.Environment == nil {
			c.Environment = []KeyValuePair{}
		}
		if c.MountPoints == nil {
			c.MountPoints = []MountPoint{}
		}
		if c.VolumesFrom == nil {
			c.VolumesFrom = []VolumeFrom{}
		}
		if c.SystemControls == nil {
			c.SystemControls = []SystemControl{}
		}
	}
	if !essential {
		return clientErr("At least one essential container is required.")
	}
	if err := checkDependencyCycle(td.ContainerDefinitions); err != nil {
		return err
	}
	return nil
}

func preparePorts(mode string, c *ContainerDefinition, used map[string]string) error {
	if c.PortMappings == nil {
		c.PortMappings = []PortMapping{}
	}
	for i := range c.PortMappings {
		pm := &c.PortMappings[i]
		if pm.Protocol == "" {
			pm.Protocol = "tcp"
		}
		if pm.Protocol != "tcp" && pm.Protocol != "udp" {
			return clientErr("Invalid protocol %q in port mapping of container '%s'. Valid values: tcp, udp.", pm.Protocol, c.Name)
		}
		if pm.ContainerPortRange != "" {
			if pm.ContainerPort != nil {
				return clientErr("Container '%s': specify either containerPort or containerPortRange, not both.", c.Name)
			}
			continue
		}
		if pm.ContainerPort == nil {
			return clientErr("Container '%s': containerPort is required in a port mapping.", c.Name)
		}
		cp := *pm.ContainerPort
		if cp < 1 || cp > 65535 {
			return clientErr("Invalid containerPort %d for container '%s'. Valid range: 1-65535.", cp, c.Name)
		}
		switch mode {
		case NetworkAwsvpc, NetworkHost:
			if pm.HostPort != nil && *pm.HostPort != cp {
				return clientErr("When networkMode=%s, the host ports and container ports in port mappings must match.", mode)
			}
			hp := cp
			pm.HostPort = &hp
		case NetworkBridge:
			if pm.HostPort != nil && (*pm.HostPort < 0 || *pm.HostPort > 65535) {
				return clientErr("Invalid hostPort %d for container '%s'. Valid range: 0-65535.", *pm.HostPort, c.Name)
			}
		case NetworkNone:
			return clientErr("Port mappings are not supported when networkMode=none (container '%s').", c.Name)
		}
		if pm.HostPort != nil && *pm.HostPort != 0 {
			key := fmt.Sprintf("%d/%s", *pm.HostPort, pm.Protocol)
			if other, dup := used[key]; dup {
				return clientErr("Host port %d/%s is mapped more than once (containers '%s' and '%s').", *pm.HostPort, pm.Protocol, other, c.Name)
			}
			used[key] = c.Name
		}
	}
	return nil
}

func prepareHealthCheck(c *ContainerDefinition) error {
	hc := c.HealthCheck
	if hc == nil {
		return nil
	}
	if len(hc.Command) == 0 {
		return clientErr("Health check command is required for container '%s'.", c.Name)
	}
	switch hc.Command[0] {
	case "CMD", "CMD-SHELL":
		if len(hc.Command) < 2 {
			return clientErr("Health check command for container '%s' must follow %s with a command.", c.Name, hc.Command[0])
		}
	case "NONE":
	default:
		return clientErr("Health check command for container '%s' must start with CMD, CMD-SHELL or NONE.", c.Name)
	}
	def := func(p **int, v, lo, hi int, name string) error {
		if *p == nil {
			*p = &v
			return nil
		}
		if **p < lo || **p > hi {
			return clientErr("Invalid health check %s %d for container '%s'. Valid range: %d-%d.", name, **p, c.Name, lo, hi)
		}
		return nil
	}
	if err := def(&hc.Interval, 30, 5, 300, "interval"); err != nil {
		return err
	}
	if err := def(&hc.Timeout, 5, 2, 120, "timeout"); err != nil {
		return err
	}
	if err := def(&hc.Retries, 3, 1, 10, "retries"); err != nil {
		return err
	}
	if hc.StartPeriod != nil && (*hc.StartPeriod < 0 || *hc.StartPeriod > 300) {
		return clientErr("Invalid health check startPeriod %d for container '%s'. Valid range: 0-300.", *hc.StartPeriod, c.Name)
	}
	return nil
}

func checkDependencyCycle(cs []ContainerDefinition) error {
	deps := map[string][]string{}
	for _, c := range cs {
		for _, d := range c.DependsOn {
			deps[c.Name] = append(deps[c.Name], d.ContainerName)
		}
	}
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(string) bool
	visit = func(n string) bool {
		switch state[n] {
		case 1:
			return false
		case 2:
			return true
		}
		state[n] = 1
		for _, d := range deps[n] {
			if !visit(d) {
				return false
			}
		}
		state[n] = 2
		return true
	}
	for _, c := range cs {
		if !visit(c.Name) {
			return clientErr("Container dependencies form a cycle (container '%s').", c.Name)
		}
	}
	return nil
}

// compatibilities returns the launch types a definition can run on.
func compatibilities(td *TaskDefinition, cpu, mem int) []string {
	out := []string{LaunchEC2}
	if td.NetworkMode != NetworkAwsvpc {
		out = append([]string{LaunchExternal}, out...)
	}
	if td.NetworkMode == NetworkAwsvpc && FargateSizeValid(cpu, mem) && validateFargate(td, cpu, mem) == nil {
		out = append(out, LaunchFargate)
	}
	return out
}

// requiredAttributes returns the container-instance capabilities a task
// definition needs, as ECS derives them.
func requiredAttributes(td *TaskDefinition) []Attribute {
	set := map[string]bool{}
	add := func(n string) { set[n] = true }
	if td.TaskRoleARN != "" {
		add("com.amazonaws.ecs.capability.task-iam-role")
	}
	if td.NetworkMode == NetworkAwsvpc {
		add("ecs.capability.task-eni")
	}
	for _, c := range td.ContainerDefinitions {
		if isECRImage(c.Image) {
			add("com.amazonaws.ecs.capability.ecr-auth")
			if td.ExecutionRoleARN != "" {
				add("ecs.capability.execution-role-ecr-pull")
			}
		}
		if c.LogConfiguration != nil {
			add("com.amazonaws.ecs.capability.logging-driver." + c.LogConfiguration.LogDriver)
			if c.LogConfiguration.LogDriver == "awslogs" {
				add("com.amazonaws.ecs.capability.docker-remote-api.1.19")
				if td.ExecutionRoleARN != "" {
					add("ecs.capability.execution-role-awslogs")
				}
			}
		}
		if c.HealthCheck != nil {
			add("ecs.capability.container-health-check")
			add("com.amazonaws.ecs.capability.docker-remote-api.1.24")
		}
		for _, s := range c.Secrets {
			if strings.Contains(s.ValueFrom, ":secretsmanager:") {
				add("ecs.capability.secrets.asm.environment-variables")
			} else {
				add("ecs.capability.secrets.ssm.environment-variables")
			}
		}
		if len(c.DependsOn) > 0 {
			add("ecs.capability.container-ordering")
		}
		if c.StopTimeout != nil || c.StartTimeout != nil {
			add("ecs.capability.container-ordering")
		}
		if len(c.DockerLabels) > 0 {
			add("com.amazonaws.ecs.capability.docker-remote-api.1.18")
		}
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]Attribute, len(names))
	for i, n := range names {
		out[i] = Attribute{Name: n}
	}
	return out
}

func isECRImage(image string) bool {
	host, _, ok := strings.Cut(image, "/")
	return ok && strings.Contains(host, ".dkr.ecr.") && strings.Contains(host, ".amazonaws.com")
}

// NewRevision finishes a prepared definition as revision rev of its family.
func NewRevision(scope Scope, td *TaskDefinition, rev int, registeredBy string, now time.Time) {
	td.Revision = rev
	td.ARN = scope.TaskDefinitionARN(td.Family, rev)
	td.Status = TaskDefActive
	td.RegisteredAt = now
	td.RegisteredBy = registeredBy
}
