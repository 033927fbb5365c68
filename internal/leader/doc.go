// Package leader decides which of several berth servers sharing one store
// runs the leader-only controllers. An Elector campaigns until this process
// leads; the context it returns ends when leadership is lost, so that
// leader-only work stops with it. A single server (the embedded store) is
// always the leader: Always.
package leader
