package docker

import (
	"context"
	"io"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/driver"
)

// Logs returns a container's stdout and stderr, demultiplexed.
func (d *Driver) Logs(ctx context.Context, id string, opts driver.LogOptions) (io.ReadCloser, error) {
	lo := client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: opts.Follow, Timestamps: opts.Timestamps}
	if !opts.Since.IsZero() {
		lo.Since = opts.Since.UTC().Format(time.RFC3339Nano)
	}
	rc, err := d.cli.ContainerLogs(ctx, id, lo)
	if err != nil {
		return nil, wrap("logs "+id, err)
	}
	ins, err := d.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err == nil && ins.Container.Config != nil && ins.Container.Config.Tty {
		return rc, nil // a TTY's output is not multiplexed
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := stdcopy.StdCopy(pw, pw, rc)
		pw.CloseWithError(err)
	}()
	return &logReader{PipeReader: pr, src: rc}, nil
}

type logReader struct {
	*io.PipeReader
	src io.Closer
}

func (r *logReader) Close() error {
	r.src.Close()
	return r.PipeReader.Close()
}
