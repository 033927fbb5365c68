package server

import (
	"log/slog"
	"path/filepath"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/logsapi"
	"github.com/berth-dev/berth/internal/logscp"
	"github.com/berth-dev/berth/internal/logstore"
)

// logsSubsystem is CloudWatch Logs: its on-disk store (under the data
// directory, kept by each server for itself), the control plane, the
// wire service and the retention reconciler.
type logsSubsystem struct {
	store     *logstore.Store
	plane     *logscp.Plane
	service   *awsproto.Service
	retention *logscp.Retention
}

func newLogs(dataDir, account string, log *slog.Logger) (*logsSubsystem, error) {
	st, err := logstore.Open(filepath.Join(dataDir, "logs"))
	if err != nil {
		return nil, err
	}
	plane := logscp.New(logscp.Config{Store: st, Logger: log})
	_, svc := logsapi.New(logsapi.Config{Plane: plane, Logger: log, DefaultAccount: account})
	return &logsSubsystem{store: st, plane: plane, service: svc, retention: &logscp.Retention{Plane: plane}}, nil
}
