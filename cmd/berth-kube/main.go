// Command berth-kube runs one Kubernetes control-plane component of an EKS
// cluster (kube-apiserver, kube-controller-manager or kube-scheduler,
// upstream Kubernetes linked as libraries) with the flags berth server's
// supervisor (internal/kubeplane) gives it:
//
//	berth-kube kube-apiserver|kube-controller-manager|kube-scheduler <flags...>
//
// It is a binary of its own so that berth does not link Kubernetes: berth
// server finds it next to its own executable, on PATH, or at
// BERTH_KUBE_BINARY. Build it with
//
//	go build -o "$(dirname "$(command -v berth)")/berth-kube" ./cmd/berth-kube
package main

import (
	"os"

	"github.com/berth-dev/berth/internal/kubecp"
)

func main() {
	os.Exit(kubecp.Main(os.Args[1:], os.Stderr))
}
