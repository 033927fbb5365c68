package kubeplane

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// ParentPipeEnv, set to 1 in a component's environment, tells it that
// its stdin is a pipe from berth: when that pipe closes (berth stopped
// or died), the component shuts down.
const ParentPipeEnv = "BERTH_KUBE_PARENT_PIPE"

// maxLogBytes caps a component's log file: a bigger one is started anew
// at the component's next start.
const maxLogBytes = 16 << 20

// proc supervises one component process: it starts it, restarts it when
// it exits (with a growing pause), and stops it.
type proc struct {
	name    string
	command []string // executable and leading arguments
	args    []string
	logFile string
	log     *slog.Logger

	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	running bool
	starts  int
}

// start runs the supervision loop until stop.
func (p *proc) start() {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan struct{})
	go func() {
		defer close(p.done)
		p.loop(ctx)
	}()
}

// stop ends the process (SIGTERM, then SIGKILL after grace) and the loop.
func (p *proc) stop() {
	p.cancel()
	<-p.done
}

func (p *proc) loop(ctx context.Context) {
	pause := time.Second
	for ctx.Err() == nil {
		began := time.Now()
		err := p.runOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		p.log.Warn("kubernetes component exited; restarting", "component", p.name, "err", err, "pause", pause)
		if time.Since(began) > time.Minute {
			pause = time.Second
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		pause = min(2*pause, 30*time.Second)
	}
}

// runOnce runs the process until it exits or ctx ends.
func (p *proc) runOnce(ctx context.Context) error {
	if fi, err := os.Stat(p.logFile); err == nil && fi.Size() > maxLogBytes {
		_ = os.Rename(p.logFile, p.logFile+".1")
	}
	if err := os.MkdirAll(filepath.Dir(p.logFile), 0o700); err != nil {
		return err
	}
	out, err := os.OpenFile(p.logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(p.command[0], append(append([]string{}, p.command[1:]...), p.args...)...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), ParentPipeEnv+"=1")
	// Its own process group (a terminal's ^C reaches berth, which stops
	// the components in order) and SIGKILL when berth's thread dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		stdin.Close()
		return err
	}
	p.setRunning(true)
	defer p.setRunning(false)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		stdin.Close()
		return err
	case <-ctx.Done():
	}
	// Stop: SIGTERM (the component shuts down gracefully), SIGKILL after
	// a grace period.
	_ = cmd.Process.Signal(syscall.SIGTERM)
	stdin.Close()
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case err := <-exited:
		return err
	case <-t.C:
		_ = cmd.Process.Kill()
		return errors.Join(errors.New("killed after the grace period"), <-exited)
	}
}

func (p *proc) setRunning(r bool) {
	p.mu.Lock()
	p.running = r
	if r {
		p.starts++
	}
	p.mu.Unlock()
}

// tail returns the end of the component's log (for error messages).
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > n {
		_, _ = f.Seek(-n, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}
