// Package controller holds berth's level-based reconcilers: each compares
// what the store says should be with what is, and acts on the difference,
// so that a missed event or a restart never loses work.
//
// A Controller keeps an in-memory view of tasks, container instances and
// clusters (a List of /ecs/ and a Watch from its revision, re-listed when
// the watch cannot continue) and feeds deduplicating work queues (Queue:
// the same key is never processed twice at once, and a key changed while
// it is processed is processed again):
//
//	push        instance ARN   send the instance's live ACS session every task
//	                           assigned to it that the session has not been sent
//	                           in its current desired status (a new session
//	                           starts empty: a reconnecting agent gets it all)
//	disconnect  instance ARN   stop the tasks of an instance whose agent stayed
//	                           away longer than the timeout
//	retention   task key       delete STOPPED tasks after the retention period
//	managed     cluster        keep a managed (Fargate) agent running for every
//	                           ACTIVE cluster with managed capacity
//
// The ACS server's session hooks (Connect, Ready, Disconnect) record agent
// connectivity on the instance (agentConnected) and queue the instance.
// After a server restart no agent is connected: Load marks every instance
// disconnected and starts its timeout, which a reconnecting agent cancels.
//
// Cluster counters are not kept here: the task store derives them
// (ecsstore's CountFunc), so DescribeClusters and DeleteCluster see them.
package controller
