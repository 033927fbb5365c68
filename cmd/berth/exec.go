package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"golang.org/x/term"

	"github.com/berth-dev/berth/internal/sdkhttp"
	"github.com/berth-dev/berth/internal/ssmchannel"
)

// exitStatusError carries the exit status of a command berth exec ran.
type exitStatusError struct{ code int }

func (e *exitStatusError) Error() string {
	return fmt.Sprintf("the command exited with status %d", e.code)
}

// runExec runs `berth exec`: ECS ExecuteCommand, then the session's data
// channel spoken directly (no session-manager-plugin), and berth's exit
// status is the command's.
func runExec(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("berth exec", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Run a command in a container of a running task (ECS Exec), like
aws ecs execute-command, without the session-manager-plugin; berth exec
exits with the command's exit status.

Usage:
  berth exec --cluster NAME --task ID [--container NAME] [--interactive] --command "CMD"

The task must have been started with --enable-execute-command. Without
--interactive the command gets no terminal and no input, and its output
(stdout and stderr) is printed as it comes; with it, the command runs on a
terminal that follows this one's size, and this terminal is in raw mode
while it runs (Ctrl-C goes to the command).

The command is split into words as the Session Manager agent splits it (no
shell runs it; use /bin/sh -c '...' for one).

`)
		fs.PrintDefaults()
	}
	cluster := fs.String("cluster", "default", "cluster `name` or ARN")
	task := fs.String("task", "", "task `ID` or ARN")
	container := fs.String("container", "", "container `name` (needed when the task has several)")
	command := fs.String("command", "", "the `command` to run")
	interactive := fs.Bool("interactive", false, "run on a terminal, with this terminal's input")
	serverURL := fs.String("server", envOr(getenv, "BERTH_SERVER", envOr(getenv, "AWS_ENDPOINT_URL", "http://127.0.0.1:4566")), "berth's API `URL` (env BERTH_SERVER or AWS_ENDPOINT_URL)")
	region := fs.String("region", envOr(getenv, "AWS_REGION", envOr(getenv, "AWS_DEFAULT_REGION", "us-east-1")), "`region` (env AWS_REGION or AWS_DEFAULT_REGION)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *task == "" || *command == "" {
		return &usageError{"berth exec: --task and --command are required\nRun 'berth exec --help' for usage."}
	}
	key, secret := envOr(getenv, "AWS_ACCESS_KEY_ID", "test"), envOr(getenv, "AWS_SECRET_ACCESS_KEY", "test")
	client := ecs.NewFromConfig(aws.Config{
		Region: *region, Credentials: credentials.NewStaticCredentialsProvider(key, secret, getenv("AWS_SESSION_TOKEN")),
		BaseEndpoint: serverURL, HTTPClient: sdkhttp.Client(30 * time.Second),
	})
	out, err := client.ExecuteCommand(ctx, &ecs.ExecuteCommandInput{
		Cluster: cluster, Task: task, Command: command, Interactive: true, Container: optional(*container),
	})
	if err != nil {
		return err
	}
	cfg := ssmchannel.ClientConfig{
		URL: aws.ToString(out.Session.StreamUrl), Token: aws.ToString(out.Session.TokenValue),
		TTY: *interactive, Stdout: stdout,
	}
	if *interactive {
		cfg.Stdin = os.Stdin
		fd := int(os.Stdin.Fd())
		if term.IsTerminal(fd) {
			state, err := term.MakeRaw(fd)
			if err != nil {
				return fmt.Errorf("terminal raw mode: %w", err)
			}
			defer term.Restore(fd, state)
			sizes := make(chan ssmchannel.Size, 1)
			cfg.Sizes = sizes
			stop := followSize(ctx, fd, sizes)
			defer stop()
		}
	}
	code, err := ssmchannel.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if code != 0 {
		return &exitStatusError{code}
	}
	return nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// followSize sends the terminal's size now and on every SIGWINCH, until
// the returned stop is called (which waits for its goroutine).
func followSize(ctx context.Context, fd int, sizes chan<- ssmchannel.Size) (stop func()) {
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	send := func() {
		if w, h, err := term.GetSize(fd); err == nil && w > 0 && h > 0 {
			select {
			case sizes <- ssmchannel.Size{Cols: uint32(w), Rows: uint32(h)}:
			case <-ctx.Done():
			}
		}
	}
	go func() {
		defer close(done)
		send()
		for {
			select {
			case <-ctx.Done():
				return
			case <-winch:
				send()
			}
		}
	}()
	return func() { signal.Stop(winch); cancel(); <-done }
}
