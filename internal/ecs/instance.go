package ecs

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/berth-dev/berth/internal/fault"
)

// Container instance statuses.
const (
	InstanceRegistering        = "REGISTERING"
	InstanceRegistrationFailed = "REGISTRATION_FAILED"
	InstanceActive             = "ACTIVE"
	InstanceDraining           = "DRAINING"
	InstanceDeregistering      = "DEREGISTERING"
	InstanceInactive           = "INACTIVE"
)

// Resource names and types of a container instance.
const (
	ResourceCPU           = "CPU"
	ResourceMemory        = "MEMORY"
	ResourcePorts         = "PORTS"
	ResourcePortsUDP      = "PORTS_UDP"
	ResourceTypeInteger   = "INTEGER"
	ResourceTypeStringSet = "STRINGSET"
)

// Well-known instance attributes.
const (
	AttrOSType           = "ecs.os-type"
	AttrOSFamily         = "ecs.os-family"
	AttrCPUArchitecture  = "ecs.cpu-architecture"
	AttrInstanceType     = "ecs.instance-type"
	AttrAvailabilityZone = "ecs.availability-zone"
	AttrAMIID            = "ecs.ami-id"
)

// Placement failure reasons, as RunTask and StartTask report them in
// failures[].reason (with the container instance's ARN).
const (
	ReasonCPU              = "RESOURCE:CPU"
	ReasonMemory           = "RESOURCE:MEMORY"
	ReasonPorts            = "RESOURCE:PORTS"
	ReasonPortsUDP         = "RESOURCE:PORTS_UDP"
	ReasonENI              = "RESOURCE:ENI"
	ReasonAttribute        = "ATTRIBUTE"
	ReasonAgent            = "AGENT"
	ReasonMissing          = "MISSING"
	ReasonInactive         = "INACTIVE"
	ReasonDistinctInstance = "DistinctInstance placement constraint unsatisfied."
	ReasonMemberOf         = "MemberOf placement constraint unsatisfied."
)

// DefaultReservedPorts are the TCP ports the ECS agent reserves on every
// instance it registers (SSH, the Docker daemon and the agent itself).
var DefaultReservedPorts = []int{22, 2375, 2376, 51678, 51679}

// ContainerInstance is an ECS container instance. Its JSON form uses ECS's
// field names (plus clusterArn, which berth keeps to find the cluster). ID
// is derived from the ARN and not stored.
//
// Like ECS, RemainingResources' PORTS and PORTS_UDP string sets list the
// ports that are taken (the registered reserved ports plus every task's
// static host ports), not the ports still free.
type ContainerInstance struct {
	ARN            string `json:"containerInstanceArn"`
	ID             string `json:"-"`
	EC2InstanceID  string `json:"ec2InstanceId"`
	ClusterARN     string `json:"clusterArn"`
	Status         string `json:"status"`
	StatusReason   string `json:"statusReason,omitempty"`
	AgentConnected bool   `json:"agentConnected"`
	// AgentDisconnectedAt is when agentConnected last became false (zero
	// while connected): the disconnect timeout counts from it, whichever
	// server leads (not an ECS field; never on the wire).
	AgentDisconnectedAt time.Time `json:"agentDisconnectedAt,omitzero"`
	// HostAddress is the address the instance's agent last connected
	// from: where a load balancer reaches the instance's bridge and host
	// network ports (target type instance). Not an ECS field; never on
	// the wire.
	HostAddress          string      `json:"hostAddress,omitempty"`
	AgentUpdateStatus    string      `json:"agentUpdateStatus,omitempty"`
	RegisteredResources  []Resource  `json:"registeredResources"`
	RemainingResources   []Resource  `json:"remainingResources"`
	Attributes           []Attribute `json:"attributes"`
	VersionInfo          VersionInfo `json:"versionInfo"`
	RunningTasksCount    int         `json:"runningTasksCount"`
	PendingTasksCount    int         `json:"pendingTasksCount"`
	RegisteredAt         time.Time   `json:"registeredAt,omitzero"`
	Version              int64       `json:"version"`
	Tags                 []Tag       `json:"tags,omitempty"`
	CapacityProviderName string      `json:"capacityProviderName,omitempty"`
}

// UnmarshalJSON decodes a container instance and derives its ID from the ARN.
// Types that embed it inherit this method: give them their own UnmarshalJSON
// if they are ever decoded.
func (ci *ContainerInstance) UnmarshalJSON(b []byte) error {
	type plain ContainerInstance
	if err := json.Unmarshal(b, (*plain)(ci)); err != nil {
		return err
	}
	ci.ID = lastSegment(ci.ARN)
	return nil
}

// Resource is a resource of a container instance.
type Resource struct {
	Name           string   `json:"name"`
	Type           string   `json:"type"`
	IntegerValue   int      `json:"integerValue"`
	LongValue      int64    `json:"longValue"`
	DoubleValue    float64  `json:"doubleValue"`
	StringSetValue []string `json:"stringSetValue,omitempty"`
}

// VersionInfo is the agent and Docker version of an instance.
type VersionInfo struct {
	AgentVersion  string `json:"agentVersion,omitempty"`
	AgentHash     string `json:"agentHash,omitempty"`
	DockerVersion string `json:"dockerVersion,omitempty"`
}

// ContainerInstanceARN returns the long-format ARN of a container instance.
func (s Scope) ContainerInstanceARN(cluster, id string) string {
	return s.ARN("container-instance/" + cluster + "/" + id)
}

// InstanceRegistration is what RegisterContainerInstance (or berth's own
// host registration) knows about a new instance.
type InstanceRegistration struct {
	EC2InstanceID        string
	InstanceType         string
	AvailabilityZone     string
	CPUArchitecture      string // x86_64 (default) or arm64
	CPU                  int    // CPU units (1024 per vCPU)
	Memory               int    // MiB
	ReservedPorts        []int  // TCP; nil means DefaultReservedPorts
	ReservedPortsUDP     []int
	VersionInfo          VersionInfo
	Attributes           []Attribute // custom attributes, on top of the defaults
	Tags                 []Tag
	CapacityProviderName string
}

// NewContainerInstance returns an ACTIVE, connected instance with the
// registered resources and ECS's default attributes plus reg's custom ones.
func NewContainerInstance(scope Scope, cluster *Cluster, reg InstanceRegistration, id string, now time.Time) (*ContainerInstance, error) {
	if reg.CPU <= 0 {
		return nil, invalidParam("The CPU resource of a container instance must be a positive integer.")
	}
	if reg.Memory <= 0 {
		return nil, invalidParam("The MEMORY resource of a container instance must be a positive integer.")
	}
	if err := ValidateAttributes(reg.Attributes); err != nil {
		return nil, err
	}
	if err := ValidateTags(reg.Tags); err != nil {
		return nil, err
	}
	tcp := reg.ReservedPorts
	if tcp == nil {
		tcp = DefaultReservedPorts
	}
	for _, p := range append(slices.Clone(tcp), reg.ReservedPortsUDP...) {
		if p < 1 || p > 65535 {
			return nil, invalidParam("Invalid reserved port %d. Valid range: 1-65535.", p)
		}
	}
	registered := []Resource{
		{Name: ResourceCPU, Type: ResourceTypeInteger, IntegerValue: reg.CPU},
		{Name: ResourceMemory, Type: ResourceTypeInteger, IntegerValue: reg.Memory},
		{Name: ResourcePorts, Type: ResourceTypeStringSet, StringSetValue: portStrings(tcp)},
		{Name: ResourcePortsUDP, Type: ResourceTypeStringSet, StringSetValue: portStrings(reg.ReservedPortsUDP)},
	}
	ci := &ContainerInstance{
		ARN:                  scope.ContainerInstanceARN(cluster.Name, id),
		ID:                   id,
		EC2InstanceID:        reg.EC2InstanceID,
		ClusterARN:           cluster.ARN,
		Status:               InstanceActive,
		AgentConnected:       true,
		RegisteredResources:  registered,
		RemainingResources:   cloneResources(registered),
		Attributes:           mergeAttributes(DefaultInstanceAttributes(reg.InstanceType, reg.AvailabilityZone, reg.CPUArchitecture), reg.Attributes),
		VersionInfo:          reg.VersionInfo,
		RegisteredAt:         now,
		Version:              1,
		Tags:                 slices.Clone(reg.Tags),
		CapacityProviderName: reg.CapacityProviderName,
	}
	return ci, nil
}

// portStrings formats ports as a string set, in numeric order.
func portStrings(ports []int) []string {
	sorted := slices.Compact(slices.Sorted(slices.Values(ports)))
	out := make([]string, 0, len(sorted))
	for _, p := range sorted {
		out = append(out, strconv.Itoa(p))
	}
	return out
}

func cloneResources(rs []Resource) []Resource {
	out := make([]Resource, len(rs))
	for i, r := range rs {
		out[i] = r
		out[i].StringSetValue = slices.Clone(r.StringSetValue)
	}
	return out
}

// DefaultInstanceAttributes returns the attributes ECS gives an instance
// whatever its agent advertises: its OS, CPU architecture, and instance
// type and availability zone when known. Capabilities are only those the
// agent advertised (InstanceRegistration.Attributes). They are sorted by
// name.
func DefaultInstanceAttributes(instanceType, availabilityZone, cpuArchitecture string) []Attribute {
	if cpuArchitecture == "" {
		cpuArchitecture = "x86_64"
	}
	out := []Attribute{
		{Name: AttrOSType, Value: "linux"},
		{Name: AttrOSFamily, Value: "LINUX"},
		{Name: AttrCPUArchitecture, Value: cpuArchitecture},
	}
	if instanceType != "" {
		out = append(out, Attribute{Name: AttrInstanceType, Value: instanceType})
	}
	if availabilityZone != "" {
		out = append(out, Attribute{Name: AttrAvailabilityZone, Value: availabilityZone})
	}
	slices.SortFunc(out, func(a, b Attribute) int { return compareStrings(a.Name, b.Name) })
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// mergeAttributes puts add on top of base (same name replaces), sorted by name.
func mergeAttributes(base, add []Attribute) []Attribute {
	out := slices.Clone(base)
	for _, a := range add {
		a.TargetType, a.TargetID = "", ""
		if i := slices.IndexFunc(out, func(b Attribute) bool { return b.Name == a.Name }); i >= 0 {
			out[i] = a
		} else {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b Attribute) int { return compareStrings(a.Name, b.Name) })
	return out
}

var (
	attrNameRE  = regexp.MustCompile(`^[A-Za-z0-9_./-]{1,128}$`)
	attrValueRE = regexp.MustCompile(`^[A-Za-z0-9_.@/: -]{0,128}$`)
)

// ValidateAttributes checks custom attributes as PutAttributes does.
func ValidateAttributes(attrs []Attribute) error {
	for _, a := range attrs {
		if !attrNameRE.MatchString(a.Name) {
			return invalidParam("Attribute name %q is invalid. Up to 128 letters (uppercase and lowercase), numbers, hyphens, underscores, periods and slashes are allowed.", a.Name)
		}
		if !attrValueRE.MatchString(a.Value) {
			return invalidParam("Attribute value %q of %s is invalid. Up to 128 letters (uppercase and lowercase), numbers, hyphens, underscores, periods, at signs, slashes, colons and spaces are allowed.", a.Value, a.Name)
		}
	}
	return nil
}

// Attribute returns the value of an instance attribute and whether the
// instance has it.
func (ci *ContainerInstance) Attribute(name string) (string, bool) {
	for _, a := range ci.Attributes {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// PutAttributes adds or replaces custom attributes.
func (ci *ContainerInstance) PutAttributes(attrs []Attribute) error {
	if err := ValidateAttributes(attrs); err != nil {
		return err
	}
	ci.Attributes = mergeAttributes(ci.Attributes, attrs)
	ci.Version++
	return nil
}

// DeleteAttributes removes attributes by name. Names the instance does not
// have are ignored.
func (ci *ContainerInstance) DeleteAttributes(names []string) {
	n := len(ci.Attributes)
	ci.Attributes = slices.DeleteFunc(ci.Attributes, func(a Attribute) bool { return slices.Contains(names, a.Name) })
	if len(ci.Attributes) != n {
		ci.Version++
	}
}

// SatisfiesAttributes reports whether the instance has every required
// attribute; a required attribute with a value must match it exactly.
func (ci *ContainerInstance) SatisfiesAttributes(required []Attribute) bool {
	_, missing := ci.MissingAttribute(required)
	return !missing
}

// MissingAttribute returns the first required attribute the instance lacks.
func (ci *ContainerInstance) MissingAttribute(required []Attribute) (Attribute, bool) {
	for _, r := range required {
		v, ok := ci.Attribute(r.Name)
		if !ok || (r.Value != "" && v != r.Value) {
			return r, true
		}
	}
	return Attribute{}, false
}

// Schedulable reports whether new tasks may be placed on the instance:
// ACTIVE with its agent connected (DRAINING instances take no new tasks).
func (ci *ContainerInstance) Schedulable() bool {
	return ci.Status == InstanceActive && ci.AgentConnected
}

// TaskResources is what one task takes from the instance it runs on.
type TaskResources struct {
	CPU      int
	Memory   int
	TCPPorts []int // static host ports
	UDPPorts []int
}

// ResourcesFor returns what a task of td (with overrides o) reserves on a
// container instance: the task-level cpu and memory when set (overrides
// first), else the sum over its containers (memoryReservation when set,
// else memory); and the static host ports of bridge and host mode tasks
// (dynamic ports, hostPort 0 or unset in bridge mode, reserve nothing;
// awsvpc tasks use their own ENI).
func ResourcesFor(td *TaskDefinition, o *TaskOverride) (TaskResources, error) {
	cpu, mem, err := taskSize(td, o)
	if err != nil {
		return TaskResources{}, err
	}
	r := TaskResources{CPU: cpu, Memory: mem}
	if td.NetworkMode != NetworkBridge && td.NetworkMode != NetworkHost && td.NetworkMode != "" {
		return r, nil
	}
	for _, c := range td.ContainerDefinitions {
		for _, pm := range c.PortMappings {
			hp := 0
			switch {
			case pm.HostPort != nil:
				hp = *pm.HostPort
			case td.NetworkMode == NetworkHost && pm.ContainerPort != nil:
				hp = *pm.ContainerPort
			}
			if hp == 0 {
				continue
			}
			if pm.Protocol == "udp" {
				r.UDPPorts = append(r.UDPPorts, hp)
			} else {
				r.TCPPorts = append(r.TCPPorts, hp)
			}
		}
	}
	return r, nil
}

func (ci *ContainerInstance) resource(rs []Resource, name string) *Resource {
	for i := range rs {
		if rs[i].Name == name {
			return &rs[i]
		}
	}
	return nil
}

// Remaining returns the instance's remaining CPU units and memory MiB.
func (ci *ContainerInstance) Remaining() (cpu, memory int) {
	if r := ci.resource(ci.RemainingResources, ResourceCPU); r != nil {
		cpu = r.IntegerValue
	}
	if r := ci.resource(ci.RemainingResources, ResourceMemory); r != nil {
		memory = r.IntegerValue
	}
	return cpu, memory
}

// UsedPorts returns the TCP and UDP host ports taken on the instance.
func (ci *ContainerInstance) UsedPorts() (tcp, udp []int) {
	conv := func(name string) []int {
		r := ci.resource(ci.RemainingResources, name)
		if r == nil {
			return nil
		}
		out := make([]int, 0, len(r.StringSetValue))
		for _, s := range r.StringSetValue {
			if p, err := strconv.Atoi(s); err == nil {
				out = append(out, p)
			}
		}
		return out
	}
	return conv(ResourcePorts), conv(ResourcePortsUDP)
}

// Fits returns "" if the task resources fit on the instance, else the
// placement failure reason (RESOURCE:CPU, RESOURCE:MEMORY, RESOURCE:PORTS
// or RESOURCE:PORTS_UDP, checked in that order).
func (ci *ContainerInstance) Fits(r TaskResources) string {
	cpu, mem := ci.Remaining()
	if r.CPU > cpu {
		return ReasonCPU
	}
	if r.Memory > mem {
		return ReasonMemory
	}
	if rs := ci.resource(ci.RemainingResources, ResourcePorts); rs != nil && anyPortIn(r.TCPPorts, rs.StringSetValue) {
		return ReasonPorts
	}
	if rs := ci.resource(ci.RemainingResources, ResourcePortsUDP); rs != nil && anyPortIn(r.UDPPorts, rs.StringSetValue) {
		return ReasonPortsUDP
	}
	if hasDuplicate(r.TCPPorts) {
		return ReasonPorts
	}
	if hasDuplicate(r.UDPPorts) {
		return ReasonPortsUDP
	}
	return ""
}

func anyPortIn(ports []int, set []string) bool {
	for _, p := range ports {
		if slices.Contains(set, strconv.Itoa(p)) {
			return true
		}
	}
	return false
}

func hasDuplicate(ports []int) bool {
	for i := range ports {
		if slices.Contains(ports[i+1:], ports[i]) {
			return true
		}
	}
	return false
}

// Reserve takes a task's resources from the instance. It fails, changing
// nothing, if they do not fit (the error message carries the reason Fits
// gives).
func (ci *ContainerInstance) Reserve(r TaskResources) error {
	if reason := ci.Fits(r); reason != "" {
		return fault.New(fault.Conflict, "Container instance %s cannot take the task: %s", ci.ID, reason)
	}
	ci.ensureRemaining()
	ci.resource(ci.RemainingResources, ResourceCPU).IntegerValue -= r.CPU
	ci.resource(ci.RemainingResources, ResourceMemory).IntegerValue -= r.Memory
	addPorts := func(name string, ports []int) {
		if len(ports) == 0 {
			return
		}
		rs := ci.resource(ci.RemainingResources, name)
		all := slices.Clone(ports)
		for _, s := range rs.StringSetValue {
			if p, err := strconv.Atoi(s); err == nil {
				all = append(all, p)
			}
		}
		rs.StringSetValue = portStrings(all)
	}
	addPorts(ResourcePorts, r.TCPPorts)
	addPorts(ResourcePortsUDP, r.UDPPorts)
	ci.Version++
	return nil
}

// Release gives a task's resources back to the instance. CPU and memory
// never exceed what was registered, and the instance's own reserved ports
// stay taken.
func (ci *ContainerInstance) Release(r TaskResources) {
	ci.ensureRemaining()
	give := func(name string, n int) {
		rem := ci.resource(ci.RemainingResources, name)
		rem.IntegerValue += n
		if reg := ci.resource(ci.RegisteredResources, name); reg != nil && rem.IntegerValue > reg.IntegerValue {
			rem.IntegerValue = reg.IntegerValue
		}
	}
	give(ResourceCPU, r.CPU)
	give(ResourceMemory, r.Memory)
	drop := func(name string, ports []int) {
		rs := ci.resource(ci.RemainingResources, name)
		var keep []string
		if reg := ci.resource(ci.RegisteredResources, name); reg != nil {
			keep = reg.StringSetValue
		}
		free := portStrings(ports)
		rs.StringSetValue = slices.DeleteFunc(rs.StringSetValue, func(s string) bool {
			return slices.Contains(free, s) && !slices.Contains(keep, s)
		})
	}
	drop(ResourcePorts, r.TCPPorts)
	drop(ResourcePortsUDP, r.UDPPorts)
	ci.Version++
}

// ensureRemaining makes sure every resource Reserve and Release touch exists.
func (ci *ContainerInstance) ensureRemaining() {
	for _, n := range []struct{ name, typ string }{
		{ResourceCPU, ResourceTypeInteger}, {ResourceMemory, ResourceTypeInteger},
		{ResourcePorts, ResourceTypeStringSet}, {ResourcePortsUDP, ResourceTypeStringSet},
	} {
		if ci.resource(ci.RemainingResources, n.name) == nil {
			ci.RemainingResources = append(ci.RemainingResources, Resource{Name: n.name, Type: n.typ})
		}
	}
}
