// Package kubeplane runs the Kubernetes control plane of each EKS cluster
// for the EKS lifecycle controller (it implements ekscp.ControlPlanes).
//
// Every cluster gets a directory under berth's data directory with its
// PKI (a CA of its own, the API server's serving certificate, the
// service-account signing key, client certificates for the controller
// manager, the scheduler and berth itself), kubeconfig files and the
// webhook configurations that send its API server's token reviews and
// authorization checks to berth's EKS authenticator. Its objects live in
// one embedded etcd shared by all clusters (internal/etcdserver, started
// with the first cluster), under a key prefix of their own.
//
// kube-apiserver, kube-controller-manager and kube-scheduler are upstream
// Kubernetes, linked into the separate berth-kube binary (cmd/berth-kube,
// internal/kubecp) so that berth does not link them; Kubernetes keeps
// process-global state (flags, feature gates, metrics registries, signal
// handlers), so each runs as a child process of berth that this
// package supervises: restarted when it exits, stopped when berth stops
// (and, through a pipe on its stdin and the parent-death signal, when
// berth dies). This package itself links no Kubernetes code, so the
// packages and tests that use it do not compile Kubernetes.
package kubeplane
