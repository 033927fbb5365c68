package docker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/driver"
)

var _ driver.Execer = (*Driver)(nil)

// Exec runs a command in a running container through the Engine's exec
// API, attached (and with a terminal if spec.TTY).
func (d *Driver) Exec(ctx context.Context, id string, spec driver.ExecSpec) (driver.ExecProcess, error) {
	opts := client.ExecCreateOptions{TTY: spec.TTY, AttachStdin: true, AttachStdout: true, AttachStderr: true, Cmd: spec.Cmd}
	if spec.TTY && spec.Cols > 0 && spec.Rows > 0 {
		opts.ConsoleSize = client.ConsoleSize{Width: spec.Cols, Height: spec.Rows}
	}
	created, err := d.cli.ExecCreate(ctx, id, opts)
	if err != nil {
		return nil, fmt.Errorf("docker: exec create: %w", err)
	}
	att, err := d.cli.ExecAttach(ctx, created.ID, client.ExecAttachOptions{TTY: spec.TTY, ConsoleSize: opts.ConsoleSize})
	if err != nil {
		return nil, fmt.Errorf("docker: exec start: %w", err)
	}
	p := &execProcess{cli: d.cli, id: created.ID, att: att.HijackedResponse}
	if spec.TTY {
		p.out = att.Reader
	} else {
		// Without a terminal the stream is multiplexed: demultiplex it
		// into one pipe (its goroutine ends when the stream does).
		pr, pw := io.Pipe()
		p.out = pr
		p.demux.Add(1)
		go func() {
			defer p.demux.Done()
			_, err := stdcopy.StdCopy(pw, pw, att.Reader)
			pw.CloseWithError(err)
		}()
	}
	return p, nil
}

type execProcess struct {
	cli   *client.Client
	id    string
	att   client.HijackedResponse
	out   io.Reader
	demux sync.WaitGroup
	once  sync.Once
}

func (p *execProcess) Read(b []byte) (int, error)  { return p.out.Read(b) }
func (p *execProcess) Write(b []byte) (int, error) { return p.att.Conn.Write(b) }

func (p *execProcess) Resize(ctx context.Context, cols, rows uint) error {
	_, err := p.cli.ExecResize(ctx, p.id, client.ExecResizeOptions{Width: cols, Height: rows})
	return err
}

// Wait asks the Engine for the exit code; the output has ended, but the
// Engine may take a moment to record the exit.
func (p *execProcess) Wait(ctx context.Context) (int, error) {
	for {
		res, err := p.cli.ExecInspect(ctx, p.id, client.ExecInspectOptions{})
		if err != nil {
			return -1, fmt.Errorf("docker: exec inspect: %w", err)
		}
		if !res.Running {
			return res.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Close ends the attachment and, if the command still runs, the command:
// the Engine neither kills an exec when its client leaves nor has an API
// to, so its processes (the exec's session: a command on a terminal is a
// session leader, and what it starts stays in its session) get SIGHUP, as
// from a terminal hanging up, then SIGKILL a second later. This needs the
// daemon's PID namespace (an agent on the Docker host, as berth's are).
func (p *execProcess) Close() error {
	p.once.Do(func() {
		p.att.Close()
		p.end()
	})
	p.demux.Wait()
	return nil
}

func (p *execProcess) end() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	running := func() int {
		res, err := p.cli.ExecInspect(ctx, p.id, client.ExecInspectOptions{})
		if err != nil || !res.Running || res.PID <= 0 {
			return 0
		}
		return res.PID
	}
	pid := running()
	if pid == 0 {
		return
	}
	signalSession(pid, syscall.SIGHUP)
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) && running() != 0 {
		time.Sleep(50 * time.Millisecond)
	}
	if running() != 0 {
		signalSession(pid, syscall.SIGKILL)
	}
}

// signalSession signals pid and every process of the session it leads.
func signalSession(pid int, sig syscall.Signal) {
	_ = syscall.Kill(pid, sig)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range entries {
		other, err := strconv.Atoi(e.Name())
		if err != nil || other == pid {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// After the parenthesised command: state ppid pgrp session ...
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 3 && f[3] == strconv.Itoa(pid) {
			_ = syscall.Kill(other, sig)
		}
	}
}
