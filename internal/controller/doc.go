// Package controller holds berth's level-based reconcilers and the manager
// that runs them: each reconciler compares what the state says should be
// with what is, and acts on the difference, so that a missed event or a
// restart never loses work.
//
// # Manager and runnables
//
// A Manager (controller-runtime style) runs Runnables. Those that need no
// leader election run on every server as soon as the manager runs; the
// leader-only ones (LeaderElectionRunnable, or wrapped with LeaderOnly)
// run once the leader.Elector's Campaign returns, under the context it
// returned, and stop when leadership ends; then the manager campaigns
// again. A runnable's error stops the manager. Run returns only after
// every runnable has (cancel, then wait). One server on its embedded
// store uses leader.Always.
//
// # Reconcilers
//
// One reconciler a type, each on its own deduplicating work queue (Queue:
// the same key is never processed twice at once, a key changed while it
// is processed is processed again, delayed adds honour cancellation):
//
//	runnable    key            leader  does
//	ecscache    -              no      the one state cache (list, watch, relist),
//	                                   run by the manager, read through CacheSource
//	SessionHooks instance ARN  no      ACS Connect/Ready/Disconnect hooks: record
//	                                   agentConnected; close the session of a
//	                                   deregistered instance
//	Push        instance ARN   no      send this server's live session of the
//	                                   instance every task it has not been sent in
//	                                   its current desired status, and the tasks
//	                                   stopped while its agent was away
//	Disconnect  instance ARN   yes     stop the tasks of an instance whose agent
//	                                   stayed away longer than the timeout
//	Retention   task ARN       yes     delete STOPPED tasks after the retention
//	ManagedFleet cluster key   yes     keep a managed (Fargate) agent running for
//	                                   every ACTIVE cluster with managed capacity
//	TokenSweep  -              yes     forget RunTask client tokens after an hour
//	StaleSessions -            yes     (servers sharing a store) mark disconnected the
//	                                   instances whose session a dead server held
//
// Push is not leader-only: an agent's websocket lives on the server it
// connected to, and only that server can write to it. The others decide
// for the whole cluster and must decide once.
//
// # What reconcilers read and write
//
// The reconcilers read a Source (View plus change Handlers), an interface
// owned here: CacheSource implements it over the shared state cache
// (internal/ecscache), so the controllers keep no copy of the state and
// run no watch of their own. They write
// through small interfaces (TaskLoader, TaskStopper, TaskDeleter,
// TokenStore, InstanceStore, TaskDefinitions, Fleet, Sessions), in the
// control plane's terms: ecscp.Plane implements TaskDeleter, TokenStore,
// InstanceStore and TaskDefinitions itself, the server TaskStopper over
// ecscp.Plane.StopLostTask and Fleet over its managed agents, and
// HubSessions Sessions over the ACS hub. No controller touches the store's
// ECS records (internal/ecsstore). The unit tests use hand-written fakes
// and testing/synctest's fake clock.
//
// After a restart of a sole server no agent is connected: SessionHooks
// marks the instances the store says are connected as disconnected, and
// Disconnect gives each the full timeout from the start of its leadership
// term. Servers sharing a store record who holds each session and beat
// (SessionRegistry); the leader's StaleSessions marks disconnected the
// instances of a dead server's sessions, and each server re-asserts its
// own every beat.
//
// Cluster counters are not kept here: the task store derives them
// (ecsstore's CountFunc), so DescribeClusters and DeleteCluster see them.
package controller
