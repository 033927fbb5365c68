package awsproto

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/berth-dev/berth/internal/fault"
)

func TestFaultTable(t *testing.T) {
	tab := FaultTable{
		Client:    "ClientException",
		Codes:     map[fault.Kind]string{fault.InvalidParameter: "InvalidParameterException"},
		Resources: map[fault.Kind]map[string]string{fault.NotFound: {"cluster": "ClusterNotFoundException"}},
	}
	cases := []struct {
		err    error
		code   string
		status int
	}{
		{fault.NotFoundf("cluster", "Cluster not found."), "ClusterNotFoundException", 400},
		{fault.NotFoundf("taskDefinition", "nope"), "ClientException", 400},
		{fmt.Errorf("wrapped: %w", fault.New(fault.InvalidParameter, "bad")), "InvalidParameterException", 400},
		{fault.New(fault.InUse, "busy").WithCode("ClusterContainsTasksException"), "ClusterContainsTasksException", 400},
		{fault.New(fault.Internal, "disk"), "ServerException", 500},
		{errors.New("plain"), "ServerException", 500},
		{context.Canceled, "ServerException", 500},
	}
	for _, c := range cases {
		e := tab.Map(c.err)
		if e.Code != c.code || e.Status != c.status {
			t.Errorf("Map(%v) = %s/%d, want %s/%d", c.err, e.Code, e.Status, c.code, c.status)
		}
	}
}
