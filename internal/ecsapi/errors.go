package ecsapi

import (
	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/fault"
)

// faults is the one table from fault kinds to ECS exceptions.
var faults = awsproto.FaultTable{
	Client: "ClientException",
	Codes: map[fault.Kind]string{
		fault.InvalidParameter: "InvalidParameterException",
		fault.InUse:            "ResourceInUseException",
		fault.LimitExceeded:    "LimitExceededException",
		fault.AccessDenied:     "AccessDeniedException",
		fault.Unsupported:      "UnsupportedFeatureException",
	},
	Resources: map[fault.Kind]map[string]string{
		fault.NotFound: {
			"cluster":            "ClusterNotFoundException",
			"service":            "ServiceNotFoundException",
			"service-deployment": "ServiceDeploymentNotFoundException",
			"resource":           "ResourceNotFoundException",
		},
	},
}

func mapError(err error) *awsproto.Error { return faults.Map(err) }
