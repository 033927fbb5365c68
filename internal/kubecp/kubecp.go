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

// Subcommand is the hidden berth command that runs a component:
// berth kube-component <component> <flags...>.
const Subcommand = "kube-component"

// parentPipeEnv mirrors kubeplane.ParentPipeEnv (kubeplane links no
// Kubernetes, and this package needs nothing else of it).
const parentPipeEnv = "BERTH_KUBE_PARENT_PIPE"

// Kubernetes' build scripts set these with -ldflags -X; a plain `go build`
// of berth leaves the placeholders, which Kubernetes cannot parse as a
// version, so Main sets them from the module version berth links.
//
//go:linkname gitVersion k8s.io/component-base/version.gitVersion
var gitVersion string

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
		fmt.Fprintln(stderr, "usage: berth kube-component kube-apiserver|kube-controller-manager|kube-scheduler [flags]")
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
		fmt.Fprintf(stderr, "berth kube-component: unknown component %q\n", args[0])
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

// setVersion fills Kubernetes' version variables from the version of the
// k8s.io/kubernetes module in the build.
func setVersion() {
	if !strings.HasPrefix(gitVersion, "v0.0.0-master") {
		return // set at link time
	}
	v := "v0.0.0"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "k8s.io/kubernetes" {
				v = d.Version
			}
		}
	}
	gitVersion, gitTreeState = v, "clean"
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) >= 2 {
		gitMajor, gitMinor = parts[0], parts[1]
	}
}
