package ecsstore

import (
	"reflect"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store"
)

// TestServiceDeploymentRecordKeepsAlarmsAndImages: the alarms that failed
// a deployment and the images its revision resolved survive the store.
func TestServiceDeploymentRecordKeepsAlarmsAndImages(t *testing.T) {
	s := &ecs.Service{Name: "web", ServiceDeployments: []ecs.ServiceDeployment{{
		DeploymentID: "ecs-svc/1", Status: ecs.SDRollbackSuccessful, TriggeredAlarms: []string{"p99", "errors"},
		Revision: &ecs.ServiceRevision{LaunchType: ecs.LaunchFargate, ContainerImages: []ecs.ContainerImage{
			{ContainerName: "web", Image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:v2", ImageDigest: "sha256:abcd"},
			{ContainerName: "sidecar", Image: "busybox"},
		}},
	}}}
	got, err := DecodeService(store.KV{Key: "k", Value: encodeService(s)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.ServiceDeployments) != 1 {
		t.Fatalf("%+v", got.ServiceDeployments)
	}
	h, want := got.ServiceDeployments[0], s.ServiceDeployments[0]
	if !reflect.DeepEqual(h.TriggeredAlarms, want.TriggeredAlarms) || h.Revision == nil || !reflect.DeepEqual(h.Revision.ContainerImages, want.Revision.ContainerImages) {
		t.Fatalf("after the store: alarms %v, revision %+v", h.TriggeredAlarms, h.Revision)
	}
}
