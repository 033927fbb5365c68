package server

import (
	"context"
	"log/slog"

	"github.com/berth-dev/berth/internal/appscaling"
	"github.com/berth-dev/berth/internal/appscalingapi"
	"github.com/berth-dev/berth/internal/appscalingcp"
	"github.com/berth-dev/berth/internal/appscalingstore"
	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
)

// appScalingSubsystem is Application Auto Scaling: the control plane
// over its own records, the wire service and the leader-only scheduler
// of scheduled actions.
type appScalingSubsystem struct {
	plane     *appscalingcp.Plane
	service   *awsproto.Service
	scheduler *appscalingcp.Scheduler
}

func newAppScaling(st store.Store, ecsPlane *ecscp.Plane, account string, timeScale float64, log *slog.Logger) *appScalingSubsystem {
	plane := appscalingcp.New(appscalingcp.Config{Repo: appscalingstore.New(st), Services: ecsServices{ecsPlane}, Logger: log,
		TimeScale: timeScale})
	_, svc := appscalingapi.New(appscalingapi.Config{Plane: plane, Logger: log, DefaultAccount: account})
	return &appScalingSubsystem{plane: plane, service: svc, scheduler: &appscalingcp.Scheduler{Plane: plane}}
}

// ecsServices reads and sets ECS services' desired counts for
// Application Auto Scaling through the ECS control plane (UpdateService,
// as AWS's service-linked role does).
type ecsServices struct{ p *ecscp.Plane }

var _ appscalingcp.Services = ecsServices{}

func (e ecsServices) DesiredCount(ctx context.Context, sc appscaling.Scope, cluster, service string) (int, error) {
	got, _, err := e.p.DescribeServices(ctx, ecs.Scope{Account: sc.Account, Region: sc.Region}, cluster, []string{service}, false)
	if err != nil {
		return 0, err
	}
	if len(got) != 1 || got[0].Service.Status != ecs.ServiceActive {
		return 0, fault.NotFoundf("service", "service %s in cluster %s is not ACTIVE", service, cluster)
	}
	return got[0].Service.DesiredCount, nil
}

func (e ecsServices) SetDesiredCount(ctx context.Context, sc appscaling.Scope, cluster, service string, n int) error {
	_, err := e.p.UpdateService(ctx, ecs.Scope{Account: sc.Account, Region: sc.Region}, ecscp.UpdateServiceInput{
		Cluster: cluster, Service: service, DesiredCount: &n})
	return err
}
