package scheduler

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
)

// nomadC1MPlacementsPerSec is the placement rate of HashiCorp's "C1M"
// challenge (2016): Nomad scheduled one million containers across 5,000
// hosts in under five minutes, which is quoted as roughly 3,750
// placements per second. It is a published figure for a large cluster
// of real machines, used here only as a yardstick: the benchmarks report
// their rate as a ratio to it ("x_nomad_c1m").
const nomadC1MPlacementsPerSec = 3750

// benchSnapshot is 1,000 instances (16 vCPU, 64 GiB) over three zones and
// two instance types, each already running a few tasks.
func benchSnapshot() Snapshot {
	zones := []string{"us-east-1a", "us-east-1b", "us-east-1c"}
	types := []string{"m5.4xlarge", "c5.4xlarge"}
	cluster := ecs.NewCluster(ecs.Scope{Account: "123456789012", Region: "us-east-1"}, "bench", testTime)
	var s Snapshot
	for i := range 1000 {
		ci, err := ecs.NewContainerInstance(ecs.Scope{Account: "123456789012", Region: "us-east-1"}, cluster, ecs.InstanceRegistration{
			EC2InstanceID: fmt.Sprintf("i-%017d", i), InstanceType: types[i%2], AvailabilityZone: zones[i%3],
			CPU: 16384, Memory: 65536,
			// an agent advertises its capabilities; the request needs this one
			Attributes: []ecs.Attribute{{Name: "ecs.capability.task-eni"}},
		}, fmt.Sprintf("%032x", i), testTime)
		if err != nil {
			panic(err)
		}
		tasks := []TaskInfo{{Group: "service:other"}}
		if i%4 == 0 {
			tasks = append(tasks, TaskInfo{Group: "service:web"})
		}
		st := StateOf(ci, tasks)
		st.CPU -= 256 * len(tasks)
		st.Memory -= 512 * len(tasks)
		s.Instances = append(s.Instances, st)
	}
	return s
}

func benchPlace(b *testing.B, strategies []ecs.PlacementStrategy) {
	snap := benchSnapshot()
	req := Request{
		Count: 10000, CPU: 256, Memory: 1024, Group: "service:web",
		RequiredAttributes: []ecs.Attribute{{Name: "ecs.capability.task-eni"}, {Name: ecs.AttrOSType, Value: "linux"}},
		Constraints:        []ecs.PlacementConstraint{memberOf("attribute:ecs.instance-type =~ '[mc]5\\..*'")},
		Strategies:         strategies,
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		plan := Place(snap, req, rand.New(rand.NewPCG(uint64(i), 1)))
		if plan.Err != nil || len(plan.Placements) != req.Count {
			b.Fatalf("placed %d of %d (%v, %v)", len(plan.Placements), req.Count, plan.Err, plan.Failures[:min(3, len(plan.Failures))])
		}
	}
	rate := float64(req.Count) * float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "placements/s")
	b.ReportMetric(rate/nomadC1MPlacementsPerSec, "x_nomad_c1m")
}

func BenchmarkPlace10kOn1kBinpack(b *testing.B) {
	benchPlace(b, []ecs.PlacementStrategy{binpack("memory"), binpack("cpu")})
}

func BenchmarkPlace10kOn1kSpread(b *testing.B) {
	benchPlace(b, []ecs.PlacementStrategy{spread("attribute:ecs.availability-zone"), spread("instanceId")})
}

func BenchmarkPlace10kOn1kRandom(b *testing.B) {
	benchPlace(b, []ecs.PlacementStrategy{{Type: ecs.StrategyRandom}})
}

// benchRunTask places one RunTask's worth of tasks (10) on the 1,000
// instances of benchSnapshot in the form the placement view keeps them
// (GroupCounts, AttributeIndex): the scheduler's share of a RunTask call,
// dominated by the per-call pass over every instance.
func benchRunTask(b *testing.B, strategies []ecs.PlacementStrategy) {
	snap := benchSnapshot()
	for i := range snap.Instances {
		st := &snap.Instances[i]
		st.GroupCounts = map[string]int{}
		for _, t := range st.Tasks {
			st.GroupCounts[t.Group]++
		}
		st.Tasks = nil
		st.AttributeIndex = IndexAttributes(st.Instance)
	}
	req := Request{Count: ecs.MaxRunCount, CPU: 256, Memory: 1024, Group: "service:web", Strategies: strategies}
	rnd := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		if plan := Place(snap, req, rnd); len(plan.Placements) != req.Count {
			b.Fatalf("placed %d of %d", len(plan.Placements), req.Count)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/call")
}

func BenchmarkPlaceRunTaskOn1kBinpack(b *testing.B) {
	benchRunTask(b, []ecs.PlacementStrategy{binpack("memory")})
}

func BenchmarkPlaceRunTaskOn1kSpread(b *testing.B) {
	benchRunTask(b, []ecs.PlacementStrategy{spread("attribute:ecs.availability-zone"), spread("instanceId")})
}
