// Package kubecp is the child-process side of berth's EKS control plane:
// it runs one upstream Kubernetes component (kube-apiserver,
// kube-controller-manager or kube-scheduler, linked as libraries from
// k8s.io/kubernetes) with the flags berth's supervisor (internal/kubeplane)
// gives it, exactly as the component's own binary would.
//
// It is the only package of berth that imports Kubernetes, and only
// cmd/berth-kube (a binary of its own) imports it, so berth itself, the
// rest of its packages and their tests do not link Kubernetes.
package kubecp
