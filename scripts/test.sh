#!/usr/bin/env bash
# The whole test suite: vet, every package's tests (end-to-end tests start
# real berth servers and drive them with aws-sdk-go-v2, the aws CLI, docker
# and skopeo), then each fuzz target briefly.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
go vet ./...
go test -count=1 -timeout 40m ./...
fuzztime="${BERTH_FUZZTIME:-10s}"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    echo "fuzz $pkg $target ($fuzztime)"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg"
  done
done
