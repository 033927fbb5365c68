package scheduler

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
)

var propExprs = []string{
	"attribute:ecs.availability-zone != us-east-1c",
	"attribute:ecs.instance-type =~ t2.*",
	"not(task:group == web)",
	"task:group != db or attribute:gpu exists",
	"attribute:ecs.availability-zone in [us-east-1a, us-east-1b] and runningTasksCount < 3",
}

var propStrategies = []ecs.PlacementStrategy{
	{Type: ecs.StrategyBinpack, Field: "cpu"},
	{Type: ecs.StrategyBinpack, Field: "memory"},
	{Type: ecs.StrategySpread, Field: "instanceId"},
	{Type: ecs.StrategySpread, Field: "attribute:ecs.availability-zone"},
	{Type: ecs.StrategySpread, Field: "attribute:ecs.instance-type"},
}

// randomCase builds a random snapshot and request from seed.
func randomCase(seed uint64) (Snapshot, Request) {
	r := rand.New(rand.NewPCG(seed, 99))
	pick := func(n int) bool { return r.IntN(100) < n }
	var specs []inst
	for i := range r.IntN(13) {
		sp := inst{name: fmt.Sprint(i), cpu: 128 * r.IntN(33), mem: 256 * r.IntN(33), offline: pick(10)}
		switch r.IntN(10) {
		case 0:
			sp.status = ecs.InstanceDraining
		case 1:
			sp.status = ecs.InstanceInactive
		}
		if !pick(10) {
			sp.az = []string{"us-east-1a", "us-east-1b", "us-east-1c"}[r.IntN(3)]
		}
		sp.itype = []string{"t2.micro", "m5.large"}[r.IntN(2)]
		if pick(30) {
			sp.attrs = []ecs.Attribute{{Name: "gpu", Value: "yes"}}
		}
		for _, p := range []int{22, 80, 443, 8080} {
			if pick(25) {
				sp.tcp = append(sp.tcp, p)
			}
		}
		if pick(20) {
			sp.udp = []int{53}
		}
		for range r.IntN(5) {
			sp.groups = append(sp.groups, []string{"web", "db", "batch"}[r.IntN(3)])
		}
		specs = append(specs, sp)
	}
	snap := snapshot(specs...)
	for i := range snap.Instances {
		snap.Instances[i].Instance.RunningTasksCount = len(snap.Instances[i].Tasks)
	}
	req := Request{Count: r.IntN(16), CPU: 128 * r.IntN(9), Memory: 256 * r.IntN(9), Group: []string{"web", "db", ""}[r.IntN(3)]}
	if pick(20) {
		req.TCPPorts = []int{[]int{80, 8080, 9000}[r.IntN(3)]}
	}
	if pick(10) {
		req.UDPPorts = []int{53}
	}
	if pick(20) {
		req.RequiredAttributes = []ecs.Attribute{{Name: "gpu"}}
	}
	if pick(25) {
		req.Constraints = append(req.Constraints, distinct)
	}
	for range r.IntN(3) {
		req.Constraints = append(req.Constraints, memberOf(propExprs[r.IntN(len(propExprs))]))
	}
	for _, i := range r.Perm(len(propStrategies))[:r.IntN(4)] {
		req.Strategies = append(req.Strategies, propStrategies[i])
	}
	if pick(10) {
		req.Strategies = append(req.Strategies, ecs.PlacementStrategy{Type: ecs.StrategyRandom})
	}
	return snap, req
}

// model is a deliberately simple re-statement of the placement rules: it
// re-checks everything for every instance for every task.
type model struct {
	snap   Snapshot
	req    Request
	cpu    []int
	mem    []int
	placed []int      // tasks of this plan per instance
	groups [][]string // task groups per instance, including the plan's
	qs     []*ecs.Query
}

func newModel(snap Snapshot, req Request) *model {
	m := &model{snap: snap, req: req}
	for _, st := range snap.Instances {
		m.cpu = append(m.cpu, st.CPU)
		m.mem = append(m.mem, st.Memory)
		m.placed = append(m.placed, 0)
		var g []string
		for _, t := range st.Tasks {
			g = append(g, t.Group)
		}
		m.groups = append(m.groups, g)
	}
	for _, c := range req.Constraints {
		if c.Type == ecs.ConstraintMemberOf {
			q, err := ecs.ParseQuery(c.Expression)
			if err != nil {
				panic(err)
			}
			m.qs = append(m.qs, q)
		}
	}
	return m
}

// feasible says whether instance i can take one more task.
func (m *model) feasible(i int) bool {
	st := m.snap.Instances[i]
	ci := st.Instance
	if ci.Status != ecs.InstanceActive || !ci.AgentConnected || !ci.SatisfiesAttributes(m.req.RequiredAttributes) {
		return false
	}
	for _, q := range m.qs {
		if !q.Eval(ci, m.groups[i]) {
			return false
		}
	}
	groupTasks := 0
	for _, g := range m.groups[i] {
		if g == m.req.Group {
			groupTasks++
		}
	}
	if slices.Contains(m.req.Constraints, distinct) && (m.placed[i] > 0 || (m.req.Group != "" && groupTasks > 0)) {
		return false
	}
	if m.req.CPU > m.cpu[i] || m.req.Memory > m.mem[i] {
		return false
	}
	ports := len(m.req.TCPPorts)+len(m.req.UDPPorts) > 0
	if ports && m.placed[i] > 0 {
		return false
	}
	for _, p := range m.req.TCPPorts {
		if slices.Contains(st.TCPPorts, p) {
			return false
		}
	}
	for _, p := range m.req.UDPPorts {
		if slices.Contains(st.UDPPorts, p) {
			return false
		}
	}
	return true
}

func (m *model) spreadCount(i int) int {
	n := 0
	for _, g := range m.groups[i] {
		if m.req.Group == "" || g == m.req.Group {
			n++
		}
	}
	return n
}

// key is instance i's rank under the strategies (then snapshot order).
func (m *model) key(i int) []int {
	var k []int
	for _, s := range m.req.Strategies {
		switch {
		case s.Type == ecs.StrategyBinpack && s.Field == "cpu":
			k = append(k, m.cpu[i])
		case s.Type == ecs.StrategyBinpack:
			k = append(k, m.mem[i])
		case s.Field == "instanceId":
			k = append(k, m.spreadCount(i))
		default:
			name := strings.TrimPrefix(s.Field, "attribute:")
			v, _ := m.snap.Instances[i].Instance.Attribute(name)
			n := 0
			for j, st := range m.snap.Instances {
				if w, _ := st.Instance.Attribute(name); w == v {
					n += m.spreadCount(j)
				}
			}
			k = append(k, n)
		}
	}
	return append(k, i)
}

func (m *model) place(i int) {
	m.cpu[i] -= m.req.CPU
	m.mem[i] -= m.req.Memory
	m.placed[i]++
	m.groups[i] = append(m.groups[i], m.req.Group)
}

// run places greedily, as Place does without randomness.
func (m *model) run() []int {
	var out []int
	for range m.req.Count {
		best, bestKey := -1, []int(nil)
		for i := range m.snap.Instances {
			if !m.feasible(i) {
				continue
			}
			if k := m.key(i); best < 0 || slices.Compare(k, bestKey) < 0 {
				best, bestKey = i, k
			}
		}
		if best < 0 {
			break
		}
		out = append(out, best)
		m.place(best)
	}
	return out
}

func TestPlaceProperties(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	compared := 0
	for seed := range uint64(n) {
		snap, req := randomCase(seed)
		pristine, _ := randomCase(seed)
		var rnd *rand.Rand
		if seed%2 == 1 {
			rnd = rand.New(rand.NewPCG(seed, 7))
		}
		plan := Place(snap, req, rnd)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d (req %+v): %s", seed, req, fmt.Sprintf(format, args...))
		}
		if plan.Err != nil {
			fail("error %v", plan.Err)
		}
		if !reflect.DeepEqual(snap, pristine) {
			fail("snapshot modified")
		}
		if len(plan.Placements)+plan.Unplaced != req.Count {
			fail("%d placed + %d unplaced != %d", len(plan.Placements), plan.Unplaced, req.Count)
		}

		// Replay the plan on the model: every placement must be feasible
		// when it is made, which covers over-commit of CPU, memory and
		// ports, distinctInstance, memberOf and attributes.
		m := newModel(snap, req)
		for k, p := range plan.Placements {
			if !m.feasible(p.Instance) {
				fail("placement %d on %s is not feasible", k, p.InstanceARN)
			}
			m.place(p.Instance)
		}
		for i := range snap.Instances {
			if m.cpu[i] < 0 && snap.Instances[i].CPU >= 0 || m.mem[i] < 0 && snap.Instances[i].Memory >= 0 {
				fail("instance %d over-committed", i)
			}
		}
		// Nothing is left unplaced while some instance could take it.
		if plan.Unplaced > 0 {
			for i := range snap.Instances {
				if m.feasible(i) {
					fail("%d unplaced, but instance %d could take one", plan.Unplaced, i)
				}
			}
		}
		// Failures: one per rejected ACTIVE instance, only when something is unplaced.
		active := 0
		for _, st := range snap.Instances {
			if st.Instance.Status == ecs.InstanceActive {
				active++
			}
		}
		if plan.NoInstances != (active == 0) {
			fail("NoInstances %v with %d active", plan.NoInstances, active)
		}
		switch {
		case plan.Unplaced == 0 && len(plan.Failures) > 0:
			fail("failures without unplaced tasks: %v", plan.Failures)
		case plan.Unplaced > 0 && len(plan.Failures) != active:
			fail("%d failures for %d active instances: %v", len(plan.Failures), active, plan.Failures)
		}
		for _, f := range plan.Failures {
			if f.Reason == "" || f.Arn == "" {
				fail("empty failure %+v", f)
			}
		}
		// Without randomness, Place makes exactly the model's greedy choices.
		usesRandom := len(req.Strategies) == 0 || slices.ContainsFunc(req.Strategies, func(s ecs.PlacementStrategy) bool { return s.Type == ecs.StrategyRandom })
		if rnd == nil && !usesRandom {
			want := newModel(snap, req).run()
			var got []int
			for _, p := range plan.Placements {
				got = append(got, p.Instance)
			}
			if !slices.Equal(got, want) {
				fail("placements %v, model %v", got, want)
			}
			compared++
		}
	}
	if compared < n/5 {
		t.Errorf("only %d of %d cases compared with the model", compared, n)
	}
}

// TestPlaceCountsFormEquivalent: a snapshot that gives each instance's
// tasks as GroupCounts and its attributes as an AttributeIndex (the form
// the placement view keeps) plans exactly like the same snapshot with Tasks
// and attribute scans, with and without randomness.
func TestPlaceCountsFormEquivalent(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	for seed := range uint64(n) {
		snap, req := randomCase(seed)
		counted, _ := randomCase(seed)
		for i := range counted.Instances {
			st := &counted.Instances[i]
			st.GroupCounts = map[string]int{}
			for _, tk := range st.Tasks {
				st.GroupCounts[tk.Group]++
			}
			st.Tasks = nil
			st.AttributeIndex = IndexAttributes(st.Instance)
		}
		// Both forms also when the request has no group (spread then
		// counts every task).
		for _, group := range []string{req.Group, ""} {
			req.Group = group
			var r1, r2 *rand.Rand
			if seed%2 == 1 {
				r1, r2 = rand.New(rand.NewPCG(seed, 7)), rand.New(rand.NewPCG(seed, 7))
			}
			want, got := Place(snap, req, r1), Place(counted, req, r2)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, group %q: counts form planned %+v, tasks form %+v", seed, group, got, want)
			}
		}
	}
}

// TestIndexAttributesFirstWins: a repeated attribute name resolves to its
// first value, as ContainerInstance.Attribute does.
func TestIndexAttributesFirstWins(t *testing.T) {
	ci := &ecs.ContainerInstance{Attributes: []ecs.Attribute{{Name: "a", Value: "1"}, {Name: "b"}, {Name: "a", Value: "2"}}}
	idx := IndexAttributes(ci)
	for _, name := range []string{"a", "b", "c"} {
		wv, wok := ci.Attribute(name)
		gv, gok := idx[name]
		if wv != gv || wok != gok {
			t.Errorf("%s: index %q %v, instance %q %v", name, gv, gok, wv, wok)
		}
	}
}
