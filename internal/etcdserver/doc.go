// Package etcdserver runs an embedded single-node etcd server
// (go.etcd.io/etcd/server/v3/embed) as a component: Start it with a data
// directory and loopback ports, wait for Ready, hand its Endpoints to
// clients, and Stop it, which returns once every goroutine of the server
// has ended.
//
// berth uses it for `--store embedded-etcd` (a single berth server whose
// state lives in etcd, mostly for tests of the etcd store path) and in the
// tests of the etcd store and elector; the Kubernetes (EKS) work reuses it
// to back a real kube-apiserver. It serves plain HTTP on 127.0.0.1 only: it
// is not a production etcd cluster, which berth reaches with
// `--store etcd://host:2379,...` instead.
//
// etcd logs through zap; the component bridges those logs to the
// log/slog logger it is given.
package etcdserver
