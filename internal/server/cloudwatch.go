package server

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/cw"
	"github.com/berth-dev/berth/internal/cwapi"
	"github.com/berth-dev/berth/internal/cwcp"
	"github.com/berth-dev/berth/internal/cwstore"
	"github.com/berth-dev/berth/internal/store"
)

// cloudWatchSubsystem is CloudWatch metrics and alarms: the metric store
// (under the data directory, kept by each server for the datapoints it
// receives), the alarms in the state store, the control plane, the wire
// service, the leader-only alarm evaluator and the metric retention pass.
type cloudWatchSubsystem struct {
	metrics   *cwstore.Metrics
	plane     *cwcp.Plane
	service   *awsproto.Service
	evaluator *cwcp.Evaluator
	retention *metricRetention
}

func newCloudWatch(dataDir, account string, scale float64, st store.Store, log *slog.Logger) (*cloudWatchSubsystem, error) {
	ms, err := cwstore.OpenMetrics(filepath.Join(dataDir, "metrics"), cwstore.DefaultRetention)
	if err != nil {
		return nil, err
	}
	plane := cwcp.New(cwcp.Config{Metrics: ms, Repo: cwstore.NewRepo(st), Logger: log, Scale: cw.TimeScale(scale)})
	_, svc := cwapi.New(cwapi.Config{Plane: plane, Logger: log, DefaultAccount: account})
	return &cloudWatchSubsystem{metrics: ms, plane: plane, service: svc, evaluator: &cwcp.Evaluator{Plane: plane},
		retention: &metricRetention{metrics: ms, log: log}}, nil
}

// metricRetention expires metric data past the retention, hourly, on
// every server (each keeps its own).
type metricRetention struct {
	metrics *cwstore.Metrics
	log     *slog.Logger
}

func (r *metricRetention) Run(ctx context.Context) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := r.metrics.Expire(time.Now()); err != nil {
			r.log.Warn("metric retention pass failed", "err", err)
		} else if n > 0 {
			r.log.Info("expired metric data removed", "files", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
