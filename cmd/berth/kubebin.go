package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// kubeBinaryName is the program that runs an EKS cluster's Kubernetes
// components (cmd/berth-kube).
const kubeBinaryName = "berth-kube"

// findKubeBinary finds berth-kube: BERTH_KUBE_BINARY when set, else next
// to this executable, else on PATH.
func findKubeBinary(getenv func(string) string) (string, error) {
	if p := getenv("BERTH_KUBE_BINARY"); p != "" {
		if err := executable(p); err != nil {
			return "", fmt.Errorf("BERTH_KUBE_BINARY %s: %w", p, err)
		}
		return p, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), kubeBinaryName)
		if executable(p) == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath(kubeBinaryName); err == nil {
		return p, nil
	}
	return "", errors.New(kubeBinaryName + " is neither next to berth nor on PATH")
}

// kubeBinaryHint says how to give the berth at exe (its executable's path)
// a berth-kube it finds. Under `go run` that executable lives in a
// temporary go-build directory, so "next to berth" is nowhere a user can
// build to: the hint there is BERTH_KUBE_BINARY or installing both.
func kubeBinaryHint(exe string) string {
	if exe == "" || isGoRunBinary(exe) {
		return "berth runs from `go run`, whose executable is temporary: go build -o /tmp/berth-kube ./cmd/berth-kube " +
			"and start berth with BERTH_KUBE_BINARY=/tmp/berth-kube, or go install ./cmd/berth ./cmd/berth-kube and run ~/go/bin/berth"
	}
	return "go build -o " + filepath.Join(filepath.Dir(exe), kubeBinaryName) + " ./cmd/berth-kube, or set BERTH_KUBE_BINARY"
}

// isGoRunBinary reports whether exe is a binary `go run` built: it is
// $GOTMPDIR/go-buildNNN/bNNN/exe/NAME.
func isGoRunBinary(exe string) bool {
	dir := filepath.Dir(exe)
	if filepath.Base(dir) != "exe" {
		return false
	}
	for d := filepath.Dir(dir); d != filepath.Dir(d); d = filepath.Dir(d) {
		if strings.HasPrefix(filepath.Base(d), "go-build") {
			return true
		}
	}
	return false
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}
