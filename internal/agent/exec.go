package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/driver"
)

// onExec returns the ACS exec handler of a session with the server at
// endpoint: each request runs on its own goroutine, which Run waits for.
func (a *Agent) onExec(endpoint string) func(context.Context, *acs.ExecRequest) {
	return func(ctx context.Context, m *acs.ExecRequest) {
		req := *m
		a.execs.Add(1)
		go func() {
			defer a.execs.Done()
			if err := a.runExec(ctx, endpoint, req); err != nil {
				a.log.Warn("exec failed", "task", req.TaskARN, "container", req.ContainerName, "error", err)
			}
		}()
	}
}

// runExec connects back to the server and relays one exec: the server's
// input and resizes to the process, its output and exit code back.
func (a *Agent) runExec(ctx context.Context, endpoint string, m acs.ExecRequest) error {
	u := strings.TrimSuffix(endpoint, "/") + acs.ExecAgentPath + m.SessionID
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if err := a.api.sign(req); err != nil {
		return err
	}
	req.Header.Set(acs.ExecTokenHeader, m.AgentToken)
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	conn, _, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPHeader: req.Header})
	cancel()
	if err != nil {
		return fmt.Errorf("connect back for the exec: %w", err)
	}
	defer conn.CloseNow()
	proc, err := a.startExec(ctx, m)
	if err != nil {
		_ = conn.Write(ctx, websocket.MessageBinary, acs.LinkFrame(acs.LinkError, []byte(err.Error())))
		_ = conn.Close(websocket.StatusNormalClosure, "")
		return err
	}
	defer proc.Close()

	inCtx, stopIn := context.WithCancel(ctx)
	inDone := make(chan struct{})
	go func() {
		defer close(inDone)
		for {
			_, b, err := conn.Read(inCtx)
			if err != nil {
				// The server is gone: end the process's attachment.
				_ = proc.Close()
				return
			}
			kind, p, err := acs.ParseLinkFrame(b)
			if err != nil {
				continue
			}
			switch kind {
			case acs.LinkInput:
				_, _ = proc.Write(p)
			case acs.LinkResize:
				var s acs.LinkSize
				if json.Unmarshal(p, &s) == nil && s.Cols > 0 && s.Rows > 0 {
					_ = proc.Resize(inCtx, s.Cols, s.Rows)
				}
			}
		}
	}()
	defer func() { stopIn(); <-inDone }()

	buf := make([]byte, 32*1024)
	for {
		n, rerr := proc.Read(buf)
		if n > 0 {
			if err := conn.Write(ctx, websocket.MessageBinary, acs.LinkFrame(acs.LinkOutput, buf[:n])); err != nil {
				return err
			}
		}
		if rerr != nil {
			break
		}
	}
	code, err := proc.Wait(ctx)
	if err != nil {
		_ = conn.Write(ctx, websocket.MessageBinary, acs.LinkFrame(acs.LinkError, []byte(err.Error())))
		return err
	}
	if err := conn.Write(ctx, websocket.MessageBinary, acs.ExitFrame(code)); err != nil {
		return err
	}
	return conn.Close(websocket.StatusNormalClosure, "exit "+strconv.Itoa(code))
}

// startExec finds the task's container and starts the command in it.
func (a *Agent) startExec(ctx context.Context, m acs.ExecRequest) (driver.ExecProcess, error) {
	ex, ok := a.cfg.Driver.(driver.Execer)
	if !ok || a.cfg.Driver == nil {
		return nil, errors.New("this agent's container driver cannot run commands in containers")
	}
	cs, err := a.cfg.Driver.ListContainers(ctx, map[string]string{
		driver.LabelTaskARN: m.TaskARN, driver.LabelContainerName: m.ContainerName,
	})
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Status == driver.StatusRunning {
			return ex.Exec(ctx, c.ID, driver.ExecSpec{Cmd: m.Command, TTY: m.TTY, Cols: m.Cols, Rows: m.Rows})
		}
	}
	return nil, fmt.Errorf("container %s of task %s is not running", m.ContainerName, m.TaskARN)
}
