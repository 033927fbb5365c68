// Package scheduler decides which container instances the tasks of one
// RunTask (or one service step) go to, the way ECS's task placement does.
// It is pure: Place takes a Snapshot of the cluster and a Request and
// returns a Plan; time and randomness are inputs, nothing is read or
// written elsewhere, and the snapshot is not modified.
//
// # Pipeline
//
// Placing a request is a filter followed by a ranking, repeated once per
// task.
//
// Step 1, candidates: only ACTIVE instances whose agent is connected can
// take tasks. DRAINING, DEREGISTERING and INACTIVE instances are ignored; an
// ACTIVE instance with a disconnected agent is rejected with AGENT.
//
// Step 2, feasibility filters, in this order, each with the failure reason
// ECS reports for an instance it rejects:
//
//	required attributes (requiresAttributes)     ATTRIBUTE
//	memberOf constraints (ecs.ParseQuery)        MemberOf placement constraint unsatisfied.
//	distinctInstance (one task of the group)     DistinctInstance placement constraint unsatisfied.
//	CPU units                                    RESOURCE:CPU
//	memory MiB                                   RESOURCE:MEMORY
//	static TCP host ports (bridge, host modes)   RESOURCE:PORTS
//	static UDP host ports                        RESOURCE:PORTS_UDP
//
// Step 3, strategies rank the feasible instances. They are ordered
// tie-breakers: the first strategy decides, the second only breaks the
// first one's ties, and so on; whatever ties remain are broken at random
// (or by snapshot order when no random source is given). Without
// strategies, placement is random.
//
//	binpack(cpu|memory)      least remaining CPU or memory first
//	spread(instanceId|host)  fewest tasks of the group on the instance first
//	spread(attribute:NAME)   fewest tasks of the group among the instances sharing
//	                         the attribute's value (missing attribute = value "")
//	random                   any; strategies after random never matter
//
// Step 4, the task is placed on the best instance, which is charged for it
// (CPU, memory, group counts, its spread buckets; with static ports or
// distinctInstance it takes no further task of this request) before the
// next task is placed. Every task of a request is identical, so an
// instance that fails a filter once fails it for the rest of the plan.
//
// When tasks remain that no instance can take, the Plan lists one Failure
// per rejected instance with the reason it was last rejected for, as
// RunTask's failures do, and counts the tasks left unplaced. A cluster
// without a single ACTIVE instance sets NoInstances (RunTask's "No
// Container Instances were found in your cluster.").
//
// # Speed
//
// The filters run once per instance per plan, not once per task, and only
// the chosen instance is re-checked after a placement. Ranking uses heaps
// keyed by the tuple of strategy values plus a tie-break, in two levels.
// Instances that share every spread-by-attribute bucket (the same
// availability zone, say) form a cell: inside a cell those strategies rank
// everyone alike, so the cell's heap orders its instances by their own
// values (binpack, spread by instance, tie-break) and a placement changes
// exactly one key there. A top heap orders the cells by the full key of
// their best instance, bucket counts included; a placement raises bucket
// counts that other cells may share, and since those keys only grow they
// are refreshed lazily when they reach the top. Each placement therefore
// costs O(log n) whatever the strategies (with a few extra refreshes when
// several spread attributes overlap), instead of a sort or a scan.
//
// Random tie-breaks use an exponential clock per instance: the instance
// with the earliest clock wins a tie, and the chosen instance's clock
// advances by an Exp(1) draw. By memorylessness, when every instance is
// tied (the random strategy) each is equally likely to be next, without
// re-drawing every key; among partial ties the pick is close to uniform.
//
// Placing a RunTask's few tasks costs one pass over every instance (the
// filters, the keys, the heaps), so that pass is kept cheap: a caller that
// keeps the cluster between placements (internal/placement's view) gives
// each instance's tasks as GroupCounts and its attributes as an
// AttributeIndex, built once per change instead of once per call; spread
// buckets of the few values an attribute takes are numbered by a linear
// scan; cells are numbered without a map; and the per-instance arrays are
// reused across calls.
//
// BenchmarkPlace10kOn1kBinpack, ...Spread and ...Random place 10,000 tasks
// on 1,000 instances and report placements per second and the ratio to
// Nomad's published C1M figure (x_nomad_c1m). BenchmarkPlaceRunTaskOn1k...
// place one RunTask (10 tasks) on the same 1,000 instances, in the
// placement view's form, and report µs per call.
package scheduler
