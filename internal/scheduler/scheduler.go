package scheduler

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
)

// TaskInfo is what placement needs to know about a task already on an
// instance (pending or running).
type TaskInfo struct {
	Group  string
	Family string
}

// InstanceState is one container instance as placement sees it: the
// instance, what it has left, and the tasks on it.
//
// The tasks are given either as Tasks or, when Tasks is nil, as
// GroupCounts (how many tasks of each group), the form a caller that keeps
// the state between placements maintains. AttributeIndex, if not nil, maps
// each of Instance's attribute names to its value; placement then looks
// attributes up there instead of scanning Instance.Attributes. Placement
// never modifies any of them, so callers may share them between snapshots.
type InstanceState struct {
	Instance       *ecs.ContainerInstance
	CPU            int   // remaining CPU units
	Memory         int   // remaining memory MiB
	TCPPorts       []int // host ports taken
	UDPPorts       []int
	Tasks          []TaskInfo
	GroupCounts    map[string]int
	AttributeIndex map[string]string
}

// IndexAttributes returns an AttributeIndex for ci: the value of each of
// its attributes by name (the first one, should a name repeat, as
// ContainerInstance.Attribute does).
func IndexAttributes(ci *ecs.ContainerInstance) map[string]string {
	m := make(map[string]string, len(ci.Attributes))
	for _, a := range ci.Attributes {
		if _, dup := m[a.Name]; !dup {
			m[a.Name] = a.Value
		}
	}
	return m
}

// attribute returns the value of one of the instance's attributes.
func (st *InstanceState) attribute(name string) (string, bool) {
	if st.AttributeIndex != nil {
		v, ok := st.AttributeIndex[name]
		return v, ok
	}
	return st.Instance.Attribute(name)
}

// hasAttributes reports whether the instance has every required attribute
// (with the required value, if one is given), as
// ContainerInstance.SatisfiesAttributes does.
func (st *InstanceState) hasAttributes(required []ecs.Attribute) bool {
	for _, r := range required {
		v, ok := st.attribute(r.Name)
		if !ok || (r.Value != "" && v != r.Value) {
			return false
		}
	}
	return true
}

// groupTasks returns how many of the instance's tasks are in group, and,
// when all is set, how many tasks it has in total (otherwise 0).
func (st *InstanceState) groupTasks(group string, all bool) (inGroup, total int) {
	if st.Tasks != nil || st.GroupCounts == nil {
		for _, t := range st.Tasks {
			if t.Group == group {
				inGroup++
			}
		}
		return inGroup, len(st.Tasks)
	}
	if all {
		for _, n := range st.GroupCounts {
			total += n
		}
	}
	return st.GroupCounts[group], total
}

// taskGroups lists the group of each of the instance's tasks.
func (st *InstanceState) taskGroups() []string {
	if st.Tasks != nil || st.GroupCounts == nil {
		return groupsOf(st.Tasks)
	}
	var out []string
	for g, n := range st.GroupCounts {
		for range n {
			out = append(out, g)
		}
	}
	return out
}

// StateOf builds an InstanceState from an instance's remaining resources.
func StateOf(ci *ecs.ContainerInstance, tasks []TaskInfo) InstanceState {
	cpu, mem := ci.Remaining()
	tcp, udp := ci.UsedPorts()
	return InstanceState{Instance: ci, CPU: cpu, Memory: mem, TCPPorts: tcp, UDPPorts: udp, Tasks: tasks}
}

// Snapshot is the cluster at the moment of placement.
type Snapshot struct {
	Instances []InstanceState
}

// Request is Count identical tasks to place.
type Request struct {
	Count    int
	CPU      int // CPU units per task
	Memory   int // memory MiB per task
	TCPPorts []int
	UDPPorts []int
	Group    string // the tasks' group ("family:web", "service:api", ...)
	// LaunchType is the tasks' launch type: EXTERNAL tasks go only to
	// external (ECS Anywhere) instances, others only to the rest.
	LaunchType         string
	RequiredAttributes []ecs.Attribute
	Constraints        []ecs.PlacementConstraint
	Strategies         []ecs.PlacementStrategy
}

// RequestFor builds a request for count tasks of td: its resources
// (ecs.ResourcesFor), required attributes and memberOf constraints, plus
// the request's own constraints and strategies.
func RequestFor(td *ecs.TaskDefinition, o *ecs.TaskOverride, group string, count int, constraints []ecs.PlacementConstraint, strategies []ecs.PlacementStrategy) (Request, error) {
	r, err := ecs.ResourcesFor(td, o)
	if err != nil {
		return Request{}, err
	}
	return Request{
		Count: count, CPU: r.CPU, Memory: r.Memory, TCPPorts: r.TCPPorts, UDPPorts: r.UDPPorts,
		Group:              group,
		RequiredAttributes: td.RequiresAttributes,
		Constraints:        append(slices.Clone(td.PlacementConstraints), constraints...),
		Strategies:         strategies,
	}, nil
}

// Placement is one placed task.
type Placement struct {
	InstanceARN string
	Instance    int // index in Snapshot.Instances
}

// Failure is an instance that could not take a task, in RunTask's failures
// shape.
type Failure struct {
	Arn    string
	Reason string
	Detail string
}

// Plan is where the tasks of a request go.
type Plan struct {
	Placements []Placement
	// Failures lists, when tasks are left unplaced, each instance that was
	// rejected and the reason it was last rejected for.
	Failures []Failure
	// Unplaced counts the tasks no instance could take.
	Unplaced int
	// NoInstances is set when the snapshot holds no ACTIVE instance.
	NoInstances bool
	// Err is set, and nothing placed, when the request is invalid.
	Err error
}

// Validate checks a request: non-negative sizes and valid constraints and
// strategies.
func Validate(req Request) error {
	if req.Count < 0 {
		return fault.New(fault.InvalidParameter, "Count must not be negative.")
	}
	if req.CPU < 0 || req.Memory < 0 {
		return fault.New(fault.InvalidParameter, "Task CPU and memory must not be negative.")
	}
	for _, p := range append(slices.Clone(req.TCPPorts), req.UDPPorts...) {
		if p < 1 || p > 65535 {
			return fault.New(fault.InvalidParameter, "Invalid host port %d. Valid range: 1-65535.", p)
		}
	}
	return ecs.ValidatePlacement(ecs.LaunchEC2, req.Constraints, req.Strategies)
}

// strategy kinds, compiled.
const (
	stBinpackCPU = iota
	stBinpackMemory
	stSpreadInstance
	stSpreadAttribute
)

type strategy struct {
	kind int
	attr int // for stSpreadAttribute: index into planner.buckets
	slot int // otherwise: index of the component in the instance key
}

// maxKey bounds a key: up to five strategies plus the tie-break.
const maxKey = ecs.MaxPlacementStrategies + 1

// key is a rank: compared component by component, smaller is better.
type key [maxKey]uint64

// The ranking is two-level. Instances that share every spread-by-attribute
// bucket (same availability zone, say) form a cell; inside a cell those
// strategies rank everyone equally, so a cell's heap orders its instances by
// their own components only (binpack, spread by instance, tie-break), and a
// placement changes one instance's key. The top heap orders the cells by
// the full key of their best instance, bucket counts included. A placement
// raises bucket counts shared with other cells; their keys only grow, so
// they are refreshed lazily when they reach the top.
type planner struct {
	scratch *scratch
	snap    *Snapshot
	req     Request
	rnd     *rand.Rand
	strats  []strategy
	nInst   int // components of an instance key (incl. tie-break)
	nFull   int // components of a full key (incl. tie-break)
	useRand bool

	cpu, mem []int
	count    []int   // tasks of the group on the instance (spread)
	existing []int   // tasks of the group on the instance (distinctInstance)
	buckets  [][]int // per spread attribute: bucket of each instance
	bcount   [][]int // per spread attribute: tasks of the group per bucket
	clock    []float64
	groups   [][]string // task groups per instance, for task:group queries
	owned    []bool     // groups[i] is a private copy
	reason   []string

	queries   []*ecs.Query
	taskQuery bool
	distinct  bool

	instKeys  []key
	cellOf    []int32
	cellHeaps []iheap
	cellKeys  []key
	cellTop   iheap // over cell ids
	instPos   []int32
	cellPos   []int32
}

// Place decides where the request's tasks go. rnd breaks ties (and drives
// the random strategy); with a nil rnd, ties go to the instance that comes
// first in the snapshot and the random strategy uses a fixed seed.
func Place(snap Snapshot, req Request, rnd *rand.Rand) Plan {
	if err := Validate(req); err != nil {
		return Plan{Err: err}
	}
	sc, _ := scratchPool.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	p := &planner{req: req, rnd: rnd, scratch: sc}
	plan := p.run(snap)
	clear(sc.reason) // drop references to strings; the rest is overwritten before use
	scratchPool.Put(sc)
	return plan
}

// scratch holds a planner's per-instance arrays, reused by later calls
// (a RunTask over a thousand instances would otherwise allocate and
// zero some 150 KB per call). Every element a plan reads is written by it
// first, except reason, which is cleared.
type scratch struct {
	ints    []int
	i32     []int32
	members []int32 // the cells' members, cell after cell
	reason  []string
	clock   []float64
	keys    []key
	buckets []int
}

var scratchPool sync.Pool

// grow returns s with length n, reusing its storage when it can.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

func (p *planner) run(snap Snapshot) Plan {
	p.snap = &snap
	n := len(snap.Instances)
	req := p.req
	var plan Plan

	for _, c := range req.Constraints {
		switch c.Type {
		case ecs.ConstraintDistinctInstance:
			p.distinct = true
		case ecs.ConstraintMemberOf:
			q, _ := ecs.ParseQuery(c.Expression) // validated
			p.queries = append(p.queries, q)
			p.taskQuery = p.taskQuery || q.UsesTaskGroups()
		}
	}
	attrNames := p.compileStrategies()
	if p.useRand && p.rnd == nil {
		p.rnd = rand.New(rand.NewPCG(0x6265727468, 0x7363686564))
	}

	sc := p.scratch
	sc.ints = grow(sc.ints, 4*n)
	p.cpu, p.mem, p.count, p.existing = sc.ints[:n:n], sc.ints[n:2*n:2*n], sc.ints[2*n:3*n:3*n], sc.ints[3*n:]
	sc.reason = grow(sc.reason, n)
	p.reason = sc.reason
	sc.i32 = grow(sc.i32, 3*n)
	if p.taskQuery {
		p.groups = make([][]string, n)
		p.owned = make([]bool, n)
	}
	p.buckets = make([][]int, len(attrNames))
	p.bcount = make([][]int, len(attrNames))
	bucketIDs := make([]valueIDs, len(attrNames))
	sc.buckets = grow(sc.buckets, len(attrNames)*n)
	for a := range attrNames {
		p.buckets[a] = sc.buckets[a*n : (a+1)*n : (a+1)*n]
	}

	tcpDup, udpDup := hasDup(req.TCPPorts), hasDup(req.UDPPorts)
	active := 0
	candidates := sc.i32[:0:n]
	for i := range snap.Instances {
		st := &snap.Instances[i]
		ci := st.Instance
		p.cpu[i], p.mem[i] = st.CPU, st.Memory
		inGroup, total := st.groupTasks(req.Group, req.Group == "")
		p.existing[i] = inGroup
		if req.Group != "" {
			p.count[i] = inGroup
		} else {
			p.count[i] = total
		}
		for a, name := range attrNames {
			v := ""
			if ci != nil {
				v, _ = st.attribute(name)
			}
			id, added := bucketIDs[a].id(v)
			if added {
				p.bcount[a] = append(p.bcount[a], 0)
			}
			p.buckets[a][i] = id
			p.bcount[a][id] += p.count[i]
		}
		if ci == nil || ci.Status != ecs.InstanceActive {
			continue
		}
		active++
		if p.groups != nil {
			p.groups[i] = st.taskGroups()
			p.owned[i] = true
		}
		if r := p.filter(st, i, tcpDup, udpDup); r != "" {
			p.reason[i] = r
			continue
		}
		candidates = append(candidates, int32(i))
	}
	plan.NoInstances = active == 0

	p.build(candidates)

	if req.Count > 0 {
		plan.Placements = make([]Placement, 0, req.Count)
	}
	for t := 0; t < req.Count; t++ {
		c, ok := p.best()
		if !ok {
			plan.Unplaced = req.Count - t
			break
		}
		i := int(p.cellHeaps[c].top())
		plan.Placements = append(plan.Placements, Placement{InstanceARN: snap.Instances[i].Instance.ARN, Instance: i})
		p.charge(c, i)
	}
	if plan.Unplaced > 0 {
		for i, r := range p.reason {
			if r != "" {
				plan.Failures = append(plan.Failures, Failure{Arn: snap.Instances[i].Instance.ARN, Reason: r})
			}
		}
	}
	return plan
}

// compileStrategies turns the request's strategies into key components and
// returns the attribute names spread strategies use.
func (p *planner) compileStrategies() []string {
	var attrs []string
	if len(p.req.Strategies) == 0 {
		p.useRand = true
	}
	slot := 0
loop:
	for _, s := range p.req.Strategies {
		switch s.Type {
		case ecs.StrategyRandom:
			p.useRand = true
			break loop // a random pick decides; later strategies cannot matter
		case ecs.StrategyBinpack:
			kind := stBinpackMemory
			if strings.EqualFold(s.Field, "cpu") {
				kind = stBinpackCPU
			}
			p.strats = append(p.strats, strategy{kind: kind, slot: slot})
			slot++
		case ecs.StrategySpread:
			if name, ok := strings.CutPrefix(s.Field, "attribute:"); ok {
				p.strats = append(p.strats, strategy{kind: stSpreadAttribute, attr: len(attrs)})
				attrs = append(attrs, name)
			} else {
				p.strats = append(p.strats, strategy{kind: stSpreadInstance, slot: slot})
				slot++
			}
		}
	}
	if p.rnd != nil {
		p.useRand = true
	}
	p.nInst = slot + 1
	p.nFull = len(p.strats) + 1
	return attrs
}

// build groups the candidates into cells and heapifies.
func (p *planner) build(candidates []int32) {
	n := len(p.snap.Instances)
	sc := p.scratch
	if p.useRand {
		sc.clock = grow(sc.clock, n)
		p.clock = sc.clock
		for _, i := range candidates {
			p.clock[i] = p.rnd.ExpFloat64()
		}
	}
	sc.keys = grow(sc.keys, n)
	p.instKeys = sc.keys
	p.instPos, p.cellOf = sc.i32[n:2*n:2*n], sc.i32[2*n:]
	// An instance's cell is the tuple of its buckets, numbered in mixed
	// radix (each attribute has len(bcount) buckets).
	var cellIDs map[int]int32
	var dense []int32 // when the number of tuples is small: tuple → cell+1
	tuples := 1
	for a := range p.buckets {
		tuples *= max(len(p.bcount[a]), 1)
		if tuples > maxDenseCells {
			break
		}
	}
	if tuples <= maxDenseCells {
		dense = make([]int32, tuples)
	} else {
		cellIDs = map[int]int32{}
	}
	// Number the cells and size them, then lay their members out in one
	// array, in candidate order.
	var sizes []int32
	for _, i := range candidates {
		sig := 0
		for a := range p.buckets {
			sig = sig*len(p.bcount[a]) + p.buckets[a][i]
		}
		var c int32
		ok := false
		if dense != nil {
			c, ok = dense[sig]-1, dense[sig] != 0
		} else {
			c, ok = cellIDs[sig]
		}
		if !ok {
			c = int32(len(sizes))
			if dense != nil {
				dense[sig] = c + 1
			} else {
				cellIDs[sig] = c
			}
			sizes = append(sizes, 0)
		}
		sizes[c]++
		p.cellOf[i] = c
		p.instKeys[i] = p.instKeyOf(int(i))
	}
	sc.members = grow(sc.members, len(candidates))
	members := make([][]int32, len(sizes))
	off := int32(0)
	for c, n := range sizes {
		members[c] = sc.members[off : off : off+n]
		off += n
	}
	for _, i := range candidates {
		c := p.cellOf[i]
		members[c] = append(members[c], i)
	}
	instLess := func(a, b int32) bool { return lessKey(&p.instKeys[a], &p.instKeys[b], p.nInst, a, b) }
	p.cellHeaps = make([]iheap, len(members))
	p.cellKeys = make([]key, len(members))
	p.cellPos = make([]int32, len(members))
	cells := make([]int32, len(members))
	for c, m := range members {
		p.cellHeaps[c] = iheap{ids: m, pos: p.instPos, less: instLess}
		p.cellHeaps[c].init()
		p.cellKeys[c] = p.cellKeyOf(int32(c))
		cells[c] = int32(c)
	}
	p.cellTop = iheap{ids: cells, pos: p.cellPos, less: func(a, b int32) bool {
		return lessKey(&p.cellKeys[a], &p.cellKeys[b], p.nFull, a, b)
	}}
	p.cellTop.init()
}

// maxDenseCells bounds the bucket tuples numbered with a slice rather
// than a map.
const maxDenseCells = 1 << 12

// valueIDs numbers the distinct values of one attribute in order of first
// appearance. Attributes that spread strategies use (zones, instance types)
// have few values, which a linear scan finds faster than a map; many
// values go to a map.
type valueIDs struct {
	vals []string
	m    map[string]int
}

func (d *valueIDs) id(v string) (id int, added bool) {
	if d.m != nil {
		if id, ok := d.m[v]; ok {
			return id, false
		}
		d.m[v] = len(d.m)
		return len(d.m) - 1, true
	}
	for i, w := range d.vals {
		if w == v {
			return i, false
		}
	}
	d.vals = append(d.vals, v)
	if len(d.vals) > 16 {
		d.m = make(map[string]int, 2*len(d.vals))
		for i, w := range d.vals {
			d.m[w] = i
		}
		d.vals = nil
	}
	return len(d.m) + len(d.vals) - 1, true
}

func lessKey(ka, kb *key, n int, a, b int32) bool {
	for c := 0; c < n; c++ {
		if ka[c] != kb[c] {
			return ka[c] < kb[c]
		}
	}
	return a < b
}

func groupsOf(tasks []TaskInfo) []string {
	out := make([]string, len(tasks))
	for i, t := range tasks {
		out[i] = t.Group
	}
	return out
}

func hasDup(ports []int) bool {
	for i := range ports {
		if slices.Contains(ports[i+1:], ports[i]) {
			return true
		}
	}
	return false
}

// filter returns the reason an ACTIVE instance cannot take a task of the
// request, or "".
func (p *planner) filter(st *InstanceState, i int, tcpDup, udpDup bool) string {
	req := &p.req
	ci := st.Instance
	if !ci.AgentConnected {
		return ecs.ReasonAgent
	}
	if _, external := st.attribute(ecs.AttrExternal); external != (req.LaunchType == ecs.LaunchExternal) {
		// ecs.LaunchTypeFits, over the attribute index.
		return ecs.ReasonAttribute
	}
	if !st.hasAttributes(req.RequiredAttributes) {
		return ecs.ReasonAttribute
	}
	for _, q := range p.queries {
		var groups []string
		if p.groups != nil {
			groups = p.groups[i]
		}
		if !q.Eval(ci, groups) {
			return ecs.ReasonMemberOf
		}
	}
	if p.distinct && req.Group != "" && p.existing[i] > 0 {
		return ecs.ReasonDistinctInstance
	}
	if req.CPU > st.CPU {
		return ecs.ReasonCPU
	}
	if req.Memory > st.Memory {
		return ecs.ReasonMemory
	}
	if tcpDup || anyTaken(req.TCPPorts, st.TCPPorts) {
		return ecs.ReasonPorts
	}
	if udpDup || anyTaken(req.UDPPorts, st.UDPPorts) {
		return ecs.ReasonPortsUDP
	}
	return ""
}

func anyTaken(want, taken []int) bool {
	for _, w := range want {
		if slices.Contains(taken, w) {
			return true
		}
	}
	return false
}

// instKeyOf computes an instance's own components: binpack and spread by
// instance values in strategy order, then the tie-break.
func (p *planner) instKeyOf(i int) key {
	var k key
	for _, s := range p.strats {
		switch s.kind {
		case stBinpackCPU:
			k[s.slot] = orderKey(p.cpu[i])
		case stBinpackMemory:
			k[s.slot] = orderKey(p.mem[i])
		case stSpreadInstance:
			k[s.slot] = orderKey(p.count[i])
		}
	}
	if p.useRand {
		k[p.nInst-1] = math.Float64bits(p.clock[i]) // clocks are non-negative: bits order like values
	} else {
		k[p.nInst-1] = uint64(i)
	}
	return k
}

// cellKeyOf computes the full key of a cell's best instance: every
// strategy's component in order (bucket counts for spread by attribute),
// then the tie-break.
func (p *planner) cellKeyOf(c int32) key {
	h := &p.cellHeaps[c]
	if len(h.ids) == 0 {
		return key{}
	}
	top := h.top()
	ik := &p.instKeys[top]
	var k key
	for j, s := range p.strats {
		if s.kind == stSpreadAttribute {
			k[j] = orderKey(p.bcount[s.attr][p.buckets[s.attr][top]])
		} else {
			k[j] = ik[s.slot]
		}
	}
	k[len(p.strats)] = ik[p.nInst-1]
	return k
}

// orderKey maps an int to a uint64 with the same order.
func orderKey(v int) uint64 { return uint64(v) ^ (1 << 63) }

// best returns the cell holding the best instance, first refreshing cells
// whose bucket counts grew since their key was stored.
func (p *planner) best() (int32, bool) {
	for len(p.cellTop.ids) > 0 {
		c := p.cellTop.top()
		if len(p.buckets) == 0 {
			return c, true
		}
		k := p.cellKeyOf(c)
		if k == p.cellKeys[c] {
			return c, true
		}
		p.cellKeys[c] = k // keys of other cells only grow: push it down and look again
		p.cellTop.fix(c)
	}
	return 0, false
}

// charge places one task on instance i, the best of cell c, and re-ranks
// it, or drops it when it can take no further task of the request.
func (p *planner) charge(c int32, i int) {
	req := &p.req
	p.cpu[i] -= req.CPU
	p.mem[i] -= req.Memory
	p.count[i]++
	p.existing[i]++
	for a := range p.buckets {
		p.bcount[a][p.buckets[a][i]]++
	}
	if p.useRand {
		p.clock[i] += p.rnd.ExpFloat64()
	}
	reason := ""
	switch {
	case p.distinct:
		reason = ecs.ReasonDistinctInstance
	case len(req.TCPPorts) > 0:
		reason = ecs.ReasonPorts
	case len(req.UDPPorts) > 0:
		reason = ecs.ReasonPortsUDP
	case req.CPU > p.cpu[i]:
		reason = ecs.ReasonCPU
	case req.Memory > p.mem[i]:
		reason = ecs.ReasonMemory
	}
	if reason == "" && p.taskQuery {
		if !p.owned[i] {
			p.groups[i] = slices.Clone(p.groups[i])
			p.owned[i] = true
		}
		p.groups[i] = append(p.groups[i], req.Group)
		for _, q := range p.queries {
			if q.UsesTaskGroups() && !q.Eval(p.snap.Instances[i].Instance, p.groups[i]) {
				reason = ecs.ReasonMemberOf
				break
			}
		}
	}
	h := &p.cellHeaps[c]
	if reason != "" {
		p.reason[i] = reason
		h.remove(int32(i))
	} else {
		p.instKeys[i] = p.instKeyOf(i)
		h.fix(int32(i))
	}
	if len(h.ids) == 0 {
		p.cellTop.remove(c)
		return
	}
	p.cellKeys[c] = p.cellKeyOf(c)
	p.cellTop.fix(c)
}
