package ecsapi

import (
	"context"
	"log/slog"
	"time"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
)

// TargetPrefix is the X-Amz-Target prefix of the ECS API.
const TargetPrefix = "AmazonEC2ContainerServiceV20141113"

// Config configures the ECS API.
type Config struct {
	// Plane is the control plane every operation calls.
	Plane          *ecscp.Plane
	Logger         *slog.Logger
	Now            func() time.Time
	DefaultAccount string
}

// API holds the ECS handlers.
type API struct {
	plane          *ecscp.Plane
	log            *slog.Logger
	now            func() time.Time
	defaultAccount string
}

// New returns the ECS API and its awsproto service description.
func New(cfg Config) (*API, *awsproto.Service) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &API{plane: cfg.Plane, log: cfg.Logger, now: cfg.Now, defaultAccount: cfg.DefaultAccount}
	svc := &awsproto.Service{
		SigningName:  "ecs",
		Protocol:     awsproto.JSON11,
		TargetPrefix: TargetPrefix,
		MapError:     mapError,
		Ops: map[string]awsproto.Op{
			"CreateCluster":               awsproto.Handle(a.createCluster),
			"DescribeClusters":            awsproto.Handle(a.describeClusters),
			"ListClusters":                awsproto.Handle(a.listClusters),
			"UpdateCluster":               awsproto.Handle(a.updateCluster),
			"UpdateClusterSettings":       awsproto.Handle(a.updateClusterSettings),
			"DeleteCluster":               awsproto.Handle(a.deleteCluster),
			"PutClusterCapacityProviders": awsproto.Handle(a.putClusterCapacityProviders),
			"DescribeCapacityProviders":   awsproto.Handle(a.describeCapacityProviders),
			"RegisterTaskDefinition":      awsproto.Handle(a.registerTaskDefinition),
			"DescribeTaskDefinition":      awsproto.Handle(a.describeTaskDefinition),
			"ListTaskDefinitions":         awsproto.Handle(a.listTaskDefinitions),
			"ListTaskDefinitionFamilies":  awsproto.Handle(a.listTaskDefinitionFamilies),
			"DeregisterTaskDefinition":    awsproto.Handle(a.deregisterTaskDefinition),
			"DeleteTaskDefinitions":       awsproto.Handle(a.deleteTaskDefinitions),
			"TagResource":                 awsproto.Handle(a.tagResource),
			"UntagResource":               awsproto.Handle(a.untagResource),
			"ListTagsForResource":         awsproto.Handle(a.listTagsForResource),
			"PutAccountSetting":           awsproto.Handle(a.putAccountSetting),
			"PutAccountSettingDefault":    awsproto.Handle(a.putAccountSettingDefault),
			"DeleteAccountSetting":        awsproto.Handle(a.deleteAccountSetting),
			"ListAccountSettings":         awsproto.Handle(a.listAccountSettings),
		},
	}
	a.addTaskOps(svc.Ops)
	a.addServiceOps(svc.Ops)
	return a, svc
}

// scope returns the account and region a call acts in.
func (a *API) scope(c *awsproto.Call) ecs.Scope {
	return ecs.Scope{Account: c.AccountOr(a.defaultAccount), Region: c.Region}
}

// Ensure the handler signature matches awsproto.Handle's expectation.
var _ = awsproto.Handle(func(context.Context, *awsproto.Call, *struct{}) (any, error) { return nil, nil })
