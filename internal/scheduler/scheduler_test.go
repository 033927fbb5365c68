package scheduler

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
)

var testTime = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// inst describes a test instance compactly.
type inst struct {
	name     string
	az       string // "" for none
	itype    string
	cpu, mem int
	tcp, udp []int
	groups   []string
	status   string // default ACTIVE
	offline  bool
	attrs    []ecs.Attribute
}

func arnOf(name string) string {
	return "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/" + name
}

func snapshot(specs ...inst) Snapshot {
	var s Snapshot
	for _, sp := range specs {
		ci := &ecs.ContainerInstance{
			ARN: arnOf(sp.name), ID: sp.name, EC2InstanceID: "i-" + sp.name,
			Status: ecs.InstanceActive, AgentConnected: !sp.offline,
			Attributes: slices.Clone(sp.attrs),
		}
		if sp.status != "" {
			ci.Status = sp.status
		}
		if sp.az != "" {
			ci.Attributes = append(ci.Attributes, ecs.Attribute{Name: ecs.AttrAvailabilityZone, Value: sp.az})
		}
		if sp.itype != "" {
			ci.Attributes = append(ci.Attributes, ecs.Attribute{Name: ecs.AttrInstanceType, Value: sp.itype})
		}
		var tasks []TaskInfo
		for _, g := range sp.groups {
			tasks = append(tasks, TaskInfo{Group: g})
		}
		s.Instances = append(s.Instances, InstanceState{
			Instance: ci, CPU: sp.cpu, Memory: sp.mem,
			TCPPorts: slices.Clone(sp.tcp), UDPPorts: slices.Clone(sp.udp), Tasks: tasks,
		})
	}
	return s
}

// names returns the instance names a plan placed on, in order.
func names(p Plan) []string {
	var out []string
	for _, pl := range p.Placements {
		out = append(out, strings.TrimPrefix(pl.InstanceARN, arnOf("")))
	}
	return out
}

func failures(p Plan) map[string]string {
	out := map[string]string{}
	for _, f := range p.Failures {
		out[strings.TrimPrefix(f.Arn, arnOf(""))] = f.Reason
	}
	return out
}

func spread(field string) ecs.PlacementStrategy {
	return ecs.PlacementStrategy{Type: ecs.StrategySpread, Field: field}
}

func binpack(field string) ecs.PlacementStrategy {
	return ecs.PlacementStrategy{Type: ecs.StrategyBinpack, Field: field}
}

func memberOf(expr string) ecs.PlacementConstraint {
	return ecs.PlacementConstraint{Type: ecs.ConstraintMemberOf, Expression: expr}
}

var distinct = ecs.PlacementConstraint{Type: ecs.ConstraintDistinctInstance}

func TestPlace(t *testing.T) {
	big := func(name, az string, groups ...string) inst {
		return inst{name: name, az: az, cpu: 100000, mem: 100000, groups: groups}
	}
	cases := []struct {
		name     string
		snap     Snapshot
		req      Request
		want     []string
		unplaced int
		failures map[string]string
	}{
		{
			name: "binpack memory fills the fullest instance first",
			snap: snapshot(inst{name: "a", cpu: 4096, mem: 4096}, inst{name: "b", cpu: 4096, mem: 2048}, inst{name: "c", cpu: 4096, mem: 3072}),
			req:  Request{Count: 5, CPU: 10, Memory: 1024, Strategies: []ecs.PlacementStrategy{binpack("memory")}},
			want: []string{"b", "b", "c", "c", "c"},
		},
		{
			name: "binpack cpu, memory breaks ties",
			snap: snapshot(inst{name: "a", cpu: 1024, mem: 4096}, inst{name: "b", cpu: 2048, mem: 1024}, inst{name: "c", cpu: 1024, mem: 2048}),
			req:  Request{Count: 3, CPU: 512, Memory: 512, Strategies: []ecs.PlacementStrategy{binpack("cpu"), binpack("memory")}},
			want: []string{"c", "c", "a"},
		},
		{
			name: "spread by instance evens out group counts",
			snap: snapshot(big("a", "", "web", "web"), big("b", "", "db", "db", "db"), big("c", "", "web")),
			req:  Request{Count: 4, Group: "web", Strategies: []ecs.PlacementStrategy{spread("instanceId")}},
			want: []string{"b", "b", "c", "a"},
		},
		{
			name: "spread by host is spread by instance",
			snap: snapshot(big("a", ""), big("b", "")),
			req:  Request{Count: 4, Group: "web", Strategies: []ecs.PlacementStrategy{spread("host")}},
			want: []string{"a", "b", "a", "b"},
		},
		{
			name: "spread without a group counts every task",
			snap: snapshot(big("a", "", "x", "y"), big("b", "", "z")),
			req:  Request{Count: 2, Strategies: []ecs.PlacementStrategy{spread("instanceId")}},
			want: []string{"b", "a"},
		},
		{
			name: "spread by zone, then by instance",
			snap: snapshot(big("a1", "us-east-1a"), big("a2", "us-east-1a"), big("b1", "us-east-1b"), big("c1", "us-east-1c")),
			req:  Request{Count: 6, Group: "web", Strategies: []ecs.PlacementStrategy{spread("attribute:ecs.availability-zone"), spread("instanceId")}},
			want: []string{"a1", "b1", "c1", "a2", "b1", "c1"},
		},
		{
			name: "spread by zone alone leaves ties to snapshot order",
			snap: snapshot(big("a1", "us-east-1a"), big("a2", "us-east-1a"), big("b1", "us-east-1b")),
			req:  Request{Count: 4, Group: "web", Strategies: []ecs.PlacementStrategy{spread("attribute:ecs.availability-zone")}},
			want: []string{"a1", "b1", "a1", "b1"},
		},
		{
			name: "spread by zone counts existing tasks of the group, on every instance",
			snap: snapshot(big("a1", "us-east-1a", "web", "web"), big("b1", "us-east-1b", "db"), inst{name: "b2", az: "us-east-1b", groups: []string{"web"}, status: ecs.InstanceDraining}),
			req:  Request{Count: 3, Group: "web", Strategies: []ecs.PlacementStrategy{spread("attribute:ecs.availability-zone")}},
			want: []string{"b1", "a1", "b1"},
		},
		{
			name: "instances without the spread attribute share a bucket",
			snap: snapshot(big("a", "us-east-1a"), big("x", ""), big("y", "")),
			req:  Request{Count: 3, Group: "g", Strategies: []ecs.PlacementStrategy{spread("attribute:ecs.availability-zone"), spread("instanceId")}},
			want: []string{"a", "x", "y"},
		},
		{
			name: "spread by zone, then binpack memory",
			snap: snapshot(
				inst{name: "a1", az: "us-east-1a", cpu: 9999, mem: 4096}, inst{name: "a2", az: "us-east-1a", cpu: 9999, mem: 2048},
				inst{name: "b1", az: "us-east-1b", cpu: 9999, mem: 8192}, inst{name: "b2", az: "us-east-1b", cpu: 9999, mem: 3072}),
			req:  Request{Count: 4, Memory: 1024, Group: "g", Strategies: []ecs.PlacementStrategy{spread("attribute:ecs.availability-zone"), binpack("memory")}},
			want: []string{"a2", "b2", "a2", "b2"},
		},
		{
			name:     "distinctInstance: one task of the group per instance",
			snap:     snapshot(big("a", "", "web"), big("b", ""), big("c", "", "db")),
			req:      Request{Count: 3, Group: "web", Constraints: []ecs.PlacementConstraint{distinct}, Strategies: []ecs.PlacementStrategy{binpack("cpu")}},
			want:     []string{"b", "c"},
			unplaced: 1,
			failures: map[string]string{"a": ecs.ReasonDistinctInstance, "b": ecs.ReasonDistinctInstance, "c": ecs.ReasonDistinctInstance},
		},
		{
			name:     "memberOf on an attribute",
			snap:     snapshot(inst{name: "a", az: "us-east-1a", cpu: 1024, mem: 1024}, inst{name: "b", az: "us-east-1b", cpu: 1024, mem: 1024}),
			req:      Request{Count: 3, CPU: 512, Constraints: []ecs.PlacementConstraint{memberOf("attribute:ecs.availability-zone == us-east-1b")}, Strategies: []ecs.PlacementStrategy{binpack("cpu")}},
			want:     []string{"b", "b"},
			unplaced: 1,
			failures: map[string]string{"a": ecs.ReasonMemberOf, "b": ecs.ReasonCPU},
		},
		{
			name:     "memberOf on task groups sees the plan's own placements",
			snap:     snapshot(big("a", ""), big("b", "", "cache"), big("c", "")),
			req:      Request{Count: 3, Group: "web", Constraints: []ecs.PlacementConstraint{memberOf("not(task:group == web) and task:group != cache")}, Strategies: []ecs.PlacementStrategy{binpack("cpu")}},
			want:     []string{"a", "c"},
			unplaced: 1,
			failures: map[string]string{"a": ecs.ReasonMemberOf, "b": ecs.ReasonMemberOf, "c": ecs.ReasonMemberOf},
		},
		{
			name: "memberOf with several constraints (all must hold)",
			snap: snapshot(inst{name: "a", az: "us-east-1a", itype: "t2.micro", cpu: 1, mem: 1}, inst{name: "b", az: "us-east-1b", itype: "t2.micro", cpu: 1, mem: 1}, inst{name: "c", az: "us-east-1b", itype: "m5.large", cpu: 1, mem: 1}),
			req: Request{Count: 1, Constraints: []ecs.PlacementConstraint{
				memberOf("attribute:ecs.instance-type =~ t2.*"), memberOf("attribute:ecs.availability-zone in [us-east-1b, us-east-1c]"),
			}, Strategies: []ecs.PlacementStrategy{binpack("cpu")}},
			want: []string{"b"},
		},
		{
			name:     "required attributes",
			snap:     snapshot(inst{name: "a", cpu: 1, mem: 1}, inst{name: "b", cpu: 1, mem: 1, attrs: []ecs.Attribute{{Name: "ecs.capability.task-eni"}}}),
			req:      Request{Count: 2, RequiredAttributes: []ecs.Attribute{{Name: "ecs.capability.task-eni"}}, Constraints: []ecs.PlacementConstraint{distinct}, Strategies: []ecs.PlacementStrategy{binpack("cpu")}},
			want:     []string{"b"},
			unplaced: 1,
			failures: map[string]string{"a": ecs.ReasonAttribute, "b": ecs.ReasonDistinctInstance},
		},
		{
			name:     "required attribute values must match",
			snap:     snapshot(inst{name: "a", itype: "t2.micro", cpu: 1, mem: 1}),
			req:      Request{Count: 1, RequiredAttributes: []ecs.Attribute{{Name: ecs.AttrInstanceType, Value: "p3.2xlarge"}}},
			unplaced: 1,
			failures: map[string]string{"a": ecs.ReasonAttribute},
		},
		{
			name:     "resources: each instance reports why it cannot take the task",
			snap:     snapshot(inst{name: "cpu", cpu: 100, mem: 9999}, inst{name: "mem", cpu: 9999, mem: 100}, inst{name: "tcp", cpu: 9999, mem: 9999, tcp: []int{22, 8080}}, inst{name: "udp", cpu: 9999, mem: 9999, udp: []int{53}}, inst{name: "agent", cpu: 9999, mem: 9999, offline: true}, inst{name: "drain", cpu: 9999, mem: 9999, status: ecs.InstanceDraining}),
			req:      Request{Count: 1, CPU: 256, Memory: 512, TCPPorts: []int{8080}, UDPPorts: []int{53}},
			unplaced: 1,
			failures: map[string]string{"cpu": ecs.ReasonCPU, "mem": ecs.ReasonMemory, "tcp": ecs.ReasonPorts, "udp": ecs.ReasonPortsUDP, "agent": ecs.ReasonAgent},
		},
		{
			name:     "a static host port takes the instance for the rest of the plan",
			snap:     snapshot(inst{name: "a", cpu: 9999, mem: 9999}, inst{name: "b", cpu: 9999, mem: 9999, tcp: []int{80}}),
			req:      Request{Count: 2, TCPPorts: []int{8080}, Strategies: []ecs.PlacementStrategy{binpack("cpu")}},
			want:     []string{"a", "b"},
			unplaced: 0,
		},
		{
			name:     "static UDP ports too",
			snap:     snapshot(inst{name: "a", cpu: 9999, mem: 9999}),
			req:      Request{Count: 2, UDPPorts: []int{514}},
			want:     []string{"a"},
			unplaced: 1,
			failures: map[string]string{"a": ecs.ReasonPortsUDP},
		},
		{
			name:     "a request mapping one host port twice fits nowhere",
			snap:     snapshot(inst{name: "a", cpu: 9999, mem: 9999}),
			req:      Request{Count: 1, TCPPorts: []int{80, 80}},
			unplaced: 1,
			failures: map[string]string{"a": ecs.ReasonPorts},
		},
		{
			name:     "running out of memory midway",
			snap:     snapshot(inst{name: "a", cpu: 9999, mem: 1024}, inst{name: "b", cpu: 9999, mem: 512}),
			req:      Request{Count: 4, Memory: 512, Strategies: []ecs.PlacementStrategy{spread("instanceId")}},
			want:     []string{"a", "b", "a"},
			unplaced: 1,
			failures: map[string]string{"a": ecs.ReasonMemory, "b": ecs.ReasonMemory},
		},
		{
			name: "zero-size tasks fit anywhere, any number of times",
			snap: snapshot(inst{name: "a"}),
			req:  Request{Count: 3, Strategies: []ecs.PlacementStrategy{binpack("memory")}},
			want: []string{"a", "a", "a"},
		},
		{
			name: "count zero places nothing",
			snap: snapshot(inst{name: "a"}),
			req:  Request{Count: 0},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plan := Place(c.snap, c.req, nil)
			if plan.Err != nil {
				t.Fatal(plan.Err)
			}
			if got := names(plan); !slices.Equal(got, c.want) {
				t.Errorf("placements %v, want %v", got, c.want)
			}
			if plan.Unplaced != c.unplaced {
				t.Errorf("unplaced %d, want %d", plan.Unplaced, c.unplaced)
			}
			if got := failures(plan); !(len(got) == 0 && len(c.failures) == 0) && !reflect.DeepEqual(got, c.failures) {
				t.Errorf("failures %v, want %v", got, c.failures)
			}
			for i, p := range plan.Placements {
				if c.snap.Instances[p.Instance].Instance.ARN != p.InstanceARN {
					t.Errorf("placement %d: index %d does not match %s", i, p.Instance, p.InstanceARN)
				}
			}
		})
	}
}

func TestPlaceNoInstances(t *testing.T) {
	for name, snap := range map[string]Snapshot{
		"empty":    {},
		"draining": snapshot(inst{name: "a", cpu: 9, mem: 9, status: ecs.InstanceDraining}, inst{name: "b", status: ecs.InstanceInactive}),
	} {
		plan := Place(snap, Request{Count: 2}, nil)
		if !plan.NoInstances || plan.Unplaced != 2 || len(plan.Placements) != 0 || len(plan.Failures) != 0 {
			t.Errorf("%s: %+v", name, plan)
		}
	}
	plan := Place(snapshot(inst{name: "a", offline: true}), Request{Count: 1}, nil)
	if plan.NoInstances || failures(plan)["a"] != ecs.ReasonAgent {
		t.Errorf("disconnected: %+v", plan)
	}
}

func TestPlaceInvalidRequest(t *testing.T) {
	snap := snapshot(inst{name: "a", cpu: 9, mem: 9})
	for _, req := range []Request{
		{Count: -1},
		{Count: 1, CPU: -1},
		{Count: 1, TCPPorts: []int{0}},
		{Count: 1, UDPPorts: []int{65536}},
		{Count: 1, Strategies: []ecs.PlacementStrategy{{Type: "binpack", Field: "gpu"}}},
		{Count: 1, Strategies: []ecs.PlacementStrategy{{Type: "spread"}}},
		{Count: 1, Constraints: []ecs.PlacementConstraint{memberOf("attribute:x ==")}},
		{Count: 1, Constraints: []ecs.PlacementConstraint{{Type: "sameHost"}}},
	} {
		plan := Place(snap, req, nil)
		if plan.Err == nil || fault.KindOf(plan.Err) != fault.InvalidParameter || len(plan.Placements) != 0 {
			t.Errorf("%+v: %+v", req, plan)
		}
	}
}

func TestPlaceRandom(t *testing.T) {
	var specs []inst
	for i := range 10 {
		specs = append(specs, inst{name: fmt.Sprint(i), cpu: 1 << 20, mem: 1 << 20})
	}
	snap := snapshot(specs...)
	for _, strategies := range [][]ecs.PlacementStrategy{
		nil, // default
		{{Type: ecs.StrategyRandom}},
		{{Type: ecs.StrategyRandom}, binpack("cpu")}, // strategies after random do not matter
	} {
		plan := Place(snap, Request{Count: 2000, CPU: 1, Strategies: strategies}, rand.New(rand.NewPCG(1, 2)))
		counts := map[string]int{}
		for _, n := range names(plan) {
			counts[n]++
		}
		if len(plan.Placements) != 2000 || len(counts) != 10 {
			t.Fatalf("%v: %d placements over %d instances", strategies, len(plan.Placements), len(counts))
		}
		for n, c := range counts {
			if c < 120 || c > 280 { // expected 200 each
				t.Errorf("%v: instance %s got %d of 2000", strategies, n, c)
			}
		}
		// Random ties are decided by rnd: the same seed gives the same plan.
		again := Place(snap, Request{Count: 2000, CPU: 1, Strategies: strategies}, rand.New(rand.NewPCG(1, 2)))
		if !slices.Equal(names(plan), names(again)) {
			t.Errorf("%v: same seed, different plans", strategies)
		}
		other := Place(snap, Request{Count: 2000, CPU: 1, Strategies: strategies}, rand.New(rand.NewPCG(3, 4)))
		if slices.Equal(names(plan), names(other)) {
			t.Errorf("%v: different seeds, same plan", strategies)
		}
	}
	// Without rnd, a random strategy still works (with a fixed seed).
	a := Place(snap, Request{Count: 50, Strategies: []ecs.PlacementStrategy{{Type: ecs.StrategyRandom}}}, nil)
	b := Place(snap, Request{Count: 50, Strategies: []ecs.PlacementStrategy{{Type: ecs.StrategyRandom}}}, nil)
	if len(a.Placements) != 50 || !slices.Equal(names(a), names(b)) {
		t.Error("random without rnd is not deterministic")
	}
}

// With rnd, ties left by the strategies are broken at random: a binpack
// over identical instances still packs (one instance at a time), but which
// instance comes first varies with the seed.
func TestPlaceRandomTieBreak(t *testing.T) {
	var specs []inst
	for i := range 8 {
		specs = append(specs, inst{name: fmt.Sprint(i), cpu: 1024, mem: 1024})
	}
	snap := snapshot(specs...)
	firsts := map[string]bool{}
	for seed := range uint64(40) {
		plan := Place(snap, Request{Count: 8, CPU: 256, Strategies: []ecs.PlacementStrategy{binpack("cpu")}}, rand.New(rand.NewPCG(seed, 0)))
		n := names(plan)
		if n[0] != n[1] || n[1] != n[2] || n[2] != n[3] || n[4] != n[5] || n[4] == n[0] {
			t.Fatalf("binpack did not pack: %v", n)
		}
		firsts[n[0]] = true
	}
	if len(firsts) < 4 {
		t.Errorf("random tie-break picked only %v first over 40 seeds", firsts)
	}
}

func TestPlaceDoesNotModifySnapshot(t *testing.T) {
	mk := func() Snapshot {
		return snapshot(inst{name: "a", az: "x", cpu: 1024, mem: 1024, tcp: []int{1}, groups: []string{"web"}}, inst{name: "b", az: "y", cpu: 2048, mem: 2048, groups: []string{"db"}})
	}
	snap := mk()
	req := Request{Count: 5, CPU: 256, Memory: 256, Group: "web",
		Constraints: []ecs.PlacementConstraint{memberOf("task:group != cache")},
		Strategies:  []ecs.PlacementStrategy{spread("attribute:ecs.availability-zone"), binpack("cpu")}}
	plan := Place(snap, req, rand.New(rand.NewPCG(1, 1)))
	if len(plan.Placements) != 5 {
		t.Fatalf("placed %d", len(plan.Placements))
	}
	if !reflect.DeepEqual(snap, mk()) {
		t.Error("Place modified the snapshot")
	}
}

func TestStateOfAndRequestFor(t *testing.T) {
	cluster := ecs.NewCluster(ecs.Scope{Account: "1", Region: "r"}, "c", testTime)
	ci, err := ecs.NewContainerInstance(ecs.Scope{Account: "1", Region: "r"}, cluster, ecs.InstanceRegistration{CPU: 2048, Memory: 4096, AvailabilityZone: "r-1a"}, "ci", testTime)
	if err != nil {
		t.Fatal(err)
	}
	if err := ci.Reserve(ecs.TaskResources{CPU: 512, Memory: 1024, TCPPorts: []int{8080}}); err != nil {
		t.Fatal(err)
	}
	st := StateOf(ci, []TaskInfo{{Group: "web"}})
	if st.CPU != 1536 || st.Memory != 3072 || !slices.Contains(st.TCPPorts, 8080) || !slices.Contains(st.TCPPorts, 22) || len(st.Tasks) != 1 {
		t.Errorf("state = %+v", st)
	}
	one := 512
	host := 8080
	cport := 80
	td := &ecs.TaskDefinition{
		Family: "web", NetworkMode: ecs.NetworkBridge,
		ContainerDefinitions: []ecs.ContainerDefinition{{Name: "a", Image: "a", CPU: 256, Memory: &one, PortMappings: []ecs.PortMapping{{ContainerPort: &cport, HostPort: &host}}}},
		PlacementConstraints: []ecs.PlacementConstraint{memberOf("attribute:ecs.os-type == linux")},
	}
	if err := ecs.PrepareTaskDefinition(td); err != nil {
		t.Fatal(err)
	}
	req, err := RequestFor(td, nil, "family:web", 2, []ecs.PlacementConstraint{distinct}, []ecs.PlacementStrategy{binpack("memory")})
	if err != nil {
		t.Fatal(err)
	}
	if req.CPU != 256 || req.Memory != 512 || !slices.Equal(req.TCPPorts, []int{8080}) || len(req.Constraints) != 2 || req.Count != 2 || req.Group != "family:web" {
		t.Errorf("request = %+v", req)
	}
	plan := Place(Snapshot{Instances: []InstanceState{st}}, req, nil)
	if plan.Unplaced != 2 || len(plan.Failures) != 1 || plan.Failures[0].Reason != ecs.ReasonPorts || plan.Failures[0].Arn != ci.ARN {
		t.Errorf("plan = %+v", plan)
	}
}

// EXTERNAL tasks go only to ECS Anywhere instances, other tasks only to the
// rest, as ecs.LaunchTypeFits says.
func TestPlaceByLaunchType(t *testing.T) {
	external := []ecs.Attribute{{Name: ecs.AttrExternal}}
	snap := snapshot(
		inst{name: "ec2", cpu: 4096, mem: 4096},
		inst{name: "anywhere", cpu: 4096, mem: 4096, attrs: external},
	)
	for _, c := range []struct {
		launchType, want, refused string
	}{
		{ecs.LaunchEC2, "ec2", "anywhere"},
		{"", "ec2", "anywhere"},
		{ecs.LaunchExternal, "anywhere", "ec2"},
	} {
		plan := Place(snap, Request{Count: 2, CPU: 10, Memory: 10, LaunchType: c.launchType}, rand.New(rand.NewPCG(1, 1)))
		if got := names(plan); !slices.Equal(got, []string{c.want, c.want}) {
			t.Errorf("%q tasks placed on %v, want only %s", c.launchType, got, c.want)
		}
		for _, st := range snap.Instances {
			if st.Instance.IsExternal() != (c.launchType == ecs.LaunchExternal) && ecs.LaunchTypeFits(c.launchType, st.Instance) {
				t.Errorf("LaunchTypeFits(%q) disagrees with the scheduler on %s", c.launchType, st.Instance.ID)
			}
		}
	}
	only := snapshot(inst{name: "anywhere", cpu: 4096, mem: 4096, attrs: external})
	plan := Place(only, Request{Count: 1, CPU: 10, Memory: 10, LaunchType: ecs.LaunchEC2}, rand.New(rand.NewPCG(1, 1)))
	if plan.Unplaced != 1 || failures(plan)["anywhere"] != ecs.ReasonAttribute {
		t.Errorf("an EC2 task on an external-only cluster: %+v", plan)
	}
}
