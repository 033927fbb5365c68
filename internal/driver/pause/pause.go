// Package pause implements the "pause" process of awsvpc task network
// sandboxes: it does nothing until it is asked to stop.
//
// The docker driver only needs it when the host has no static busybox: it
// then copies the running executable into the sandbox image and runs it
// with the single argument "pause". The berth binary must therefore handle
// that (hidden) subcommand before anything else, and be statically linked
// (CGO_ENABLED=0):
//
//	if len(os.Args) == 2 && os.Args[1] == pause.Subcommand {
//		os.Exit(pause.Main())
//	}
package pause

import (
	"context"
	"os/signal"
	"syscall"
)

// Subcommand is the argument the sandbox image runs the executable with.
const Subcommand = "pause"

// Wait blocks until SIGTERM or SIGINT arrives or ctx is done.
func Wait(ctx context.Context) {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	<-ctx.Done()
}

// Main waits for SIGTERM or SIGINT and returns the process exit code, 0.
func Main() int {
	Wait(context.Background())
	return 0
}

// IsPause reports whether args (usually os.Args) ask for the pause process.
func IsPause(args []string) bool {
	return len(args) == 2 && args[1] == Subcommand
}
