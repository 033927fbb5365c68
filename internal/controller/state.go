package controller

import (
	"context"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// TaskInfo is what the controllers know of a task: a summary kept by the
// state cache, never the stored record itself.
type TaskInfo struct {
	// Key names the task uniquely and stably (CacheSource uses its ARN):
	// the retention reconciler's work-queue key.
	Key           string
	Scope         ecs.Scope
	Cluster       string
	ID            string
	Instance      string // container instance ARN; "" until placed
	Desired       string
	Last          string
	StoppedAt     time.Time
	StoppedReason string
}

// Stopped reports whether the task is STOPPED.
func (t TaskInfo) Stopped() bool { return t.Last == ecs.TaskStopped }

// InstanceInfo is what the controllers know of a container instance.
type InstanceInfo struct {
	ARN       string
	Scope     ecs.Scope
	Cluster   string
	ID        string
	Connected bool // agentConnected as stored
	// DisconnectedAt is when the store recorded the agent's
	// disconnection (zero if connected or unknown).
	DisconnectedAt time.Time
	Managed        bool // the cluster's hidden managed (Fargate) capacity instance
}

// ClusterInfo is what the controllers know of a cluster.
type ClusterInfo struct {
	Scope  ecs.Scope
	Name   string
	Active bool
}

// Key returns the cluster's key (ClusterKey).
func (c ClusterInfo) Key() string { return ClusterKey(c.Scope, c.Name) }

// ClusterKey is the work-queue key of a cluster: account|region|name.
func ClusterKey(sc ecs.Scope, cluster string) string {
	return sc.Account + "|" + sc.Region + "|" + cluster
}

// View is the controllers' read side of the shared ECS state cache. It
// is owned here, by its consumer: any cache that answers these questions
// will do. Every method is safe for concurrent use and returns copies.
type View interface {
	// Task returns the task with the given store key.
	Task(key string) (TaskInfo, bool)
	// Tasks returns every task.
	Tasks() []TaskInfo
	// InstanceTasks returns the tasks assigned to an instance, STOPPED
	// ones included.
	InstanceTasks(instanceARN string) []TaskInfo
	// Instance returns a container instance by ARN.
	Instance(arn string) (InstanceInfo, bool)
	// Instances returns every container instance (managed ones included).
	Instances() []InstanceInfo
	// ManagedInstance returns the managed instance of the cluster with
	// the given ClusterKey.
	ManagedInstance(clusterKey string) (InstanceInfo, bool)
	// Cluster returns the cluster with the given ClusterKey.
	Cluster(clusterKey string) (ClusterInfo, bool)
	// Clusters returns every cluster.
	Clusters() []ClusterInfo
}

// Handlers are told of the cache's changes (old is nil for a new object,
// cur nil for a deleted one). They run on the cache's goroutine and must
// only queue work.
type Handlers struct {
	Task     func(old, cur *TaskInfo)
	Instance func(old, cur *InstanceInfo)
	Cluster  func(old, cur *ClusterInfo)
}

// Source is a View that also tells of changes: an informer in
// controller-runtime's sense.
type Source interface {
	View
	// Subscribe adds handlers; call it before the source runs.
	Subscribe(Handlers)
	// WaitSynced blocks until the cache holds a complete list (or ctx
	// ends).
	WaitSynced(ctx context.Context) error
}
