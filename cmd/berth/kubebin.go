package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
