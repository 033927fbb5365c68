package kubecp

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	_ "unsafe" // go:linkname sets Kubernetes' version variables

	"github.com/spf13/cobra"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

// parentPipeEnv mirrors kubeplane.ParentPipeEnv (kubeplane links no
// Kubernetes, and this package needs nothing else of it).
const parentPipeEnv = "BERTH_KUBE_PARENT_PIPE"

// Kubernetes' build scripts set its version variables with -ldflags -X;
// a plain `go build` of berth leaves placeholders. Main fills the major
// and minor version and the tree state from the k8s.io/kubernetes module
// version berth links. gitVersion itself cannot be set here (the
// compiler folds its initial value into the code that reads it): build
// with -ldflags "-X k8s.io/component-base/version.gitVersion=v1.37.2"
// to have /version (kubectl version) say it.
//
//go:linkname gitMajor k8s.io/component-base/version.gitMajor
var gitMajor string

//go:linkname gitMinor k8s.io/component-base/version.gitMinor
var gitMinor string

//go:linkname gitTreeState k8s.io/component-base/version.gitTreeState
var gitTreeState string

// Main runs the component args[0] with the flags args[1:] and returns the
// process exit status.
func Main(args []string, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: berth-kube kube-apiserver|kube-controller-manager|kube-scheduler [flags]")
		return 2
	}
	setVersion()
	var cmd *cobra.Command
	switch args[0] {
	case "kube-apiserver":
		cmd = apiserver.NewAPIServerCommand()
	case "kube-controller-manager":
		cmd = controllermanager.NewControllerManagerCommand()
	case "kube-scheduler":
		cmd = scheduler.NewSchedulerCommand()
	default:
		fmt.Fprintf(stderr, "berth-kube: unknown component %q\n", args[0])
		return 2
	}
	if os.Getenv(parentPipeEnv) == "1" {
		go watchParent()
	}
	cmd.SetArgs(args[1:])
	if err := cmd.Execute(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// watchParent turns the end of stdin (berth closed the pipe, or died)
// into SIGTERM, which the components handle by shutting down gracefully.
// A second end (none comes) or a repeated signal is the component's
// business.
func watchParent() {
	_, _ = io.Copy(io.Discard, os.Stdin)
	signal.Reset(syscall.SIGPIPE)
	_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
}

// setVersion fills Kubernetes' major and minor version from the version
// of the k8s.io/kubernetes module in the build.
func setVersion() {
	if gitMajor != "" {
		return // set at link time
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	for _, d := range bi.Deps {
		if d.Path != "k8s.io/kubernetes" {
			continue
		}
		parts := strings.SplitN(strings.TrimPrefix(d.Version, "v"), ".", 3)
		if len(parts) >= 2 {
			gitMajor, gitMinor, gitTreeState = parts[0], parts[1], "clean"
		}
	}
}
