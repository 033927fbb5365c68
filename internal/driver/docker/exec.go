package docker

import (
	"context"
	"fmt"
	"io"
	"sync"
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

func (p *execProcess) Close() error {
	p.once.Do(func() { p.att.Close() })
	p.demux.Wait()
	return nil
}
