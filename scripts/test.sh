#!/usr/bin/env bash
# The whole test suite: vet, every package's tests (end-to-end tests start
# real berth servers and drive them with aws-sdk-go-v2, the aws CLI, docker
# and skopeo), then each fuzz target briefly.
#
# Fuzz targets run for a number of executions, not a duration: Go 1.26's
# fuzz coordinator can fail a target with "context deadline exceeded" when a
# duration-based -fuzztime expires (golang/go#75804, fixed in Go 1.27).
# A count has no wall-clock deadline, so a loaded CI machine only runs slower.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
go vet ./...
# berth-kube (Kubernetes' control plane for EKS clusters) is built once,
# here, for the two tests that run it (e2e's TestEKSKubernetes and the
# bench/eks smoke run): built by each, two cold Kubernetes compiles would
# run side by side. Kubernetes' version string is set at link time.
if [ -z "${BERTH_KUBE_BINARY:-}" ]; then
  kubedir=$(mktemp -d)
  trap 'rm -rf "$kubedir"' EXIT
  echo "building berth-kube (compiles Kubernetes: about a minute with a warm Go build cache, more than ten cold)"
  go build -ldflags "-X k8s.io/component-base/version.gitVersion=v1.37.2" -o "$kubedir/berth-kube" ./cmd/berth-kube
  export BERTH_KUBE_BINARY="$kubedir/berth-kube"
fi
go test -count=1 -timeout 40m ./...
# The suites that drive whole servers once more on the etcd store path
# (each server with its own embedded single-node etcd in its data dir), so
# that both store backends pass what touches the store.
echo "e2e and ecsapi on embedded etcd (BERTH_TEST_STORE=embedded-etcd)"
BERTH_TEST_STORE=embedded-etcd go test -count=1 -timeout 40m ./e2e/ ./internal/ecsapi/
fuzztime="${BERTH_FUZZTIME:-30000x}"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    echo "fuzz $pkg $target ($fuzztime)"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg"
  done
done
