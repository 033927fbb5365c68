package ecscp_test

import (
	"context"
	"sync"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
)

// fakeImages is a registry: image reference → digest.
type fakeImages struct {
	mu      sync.Mutex
	digests map[string]string
}

func (f *fakeImages) ImageDigest(_ context.Context, _ ecs.Scope, image string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.digests[image]
	return d, ok, nil
}

// TestServiceRevisionsPinImageDigests: a deployment resolves its images
// when it starts and its revision keeps those digests, whatever the tag
// points at later; a new deployment resolves them again.
func TestServiceRevisionsPinImageDigests(t *testing.T) {
	ctx := t.Context()
	images := &fakeImages{digests: map[string]string{"busybox": "sha256:1111"}}
	plane, repo := newPlaneWith(t, func(c *ecscp.Config) { c.Images = images })
	setup(t, plane, repo)
	one := 1
	if _, err := plane.CreateService(ctx, sc, ecscp.CreateServiceInput{Cluster: "c", TaskDefinition: "web",
		Spec: ecs.ServiceSpec{Name: "web", DesiredCount: &one}}); err != nil {
		t.Fatal(err)
	}
	images.mu.Lock()
	images.digests["busybox"] = "sha256:2222" // the tag moves
	images.mu.Unlock()
	if _, err := plane.UpdateService(ctx, sc, ecscp.UpdateServiceInput{Cluster: "c", Service: "web", ForceNewDeployment: true}); err != nil {
		t.Fatal(err)
	}
	s, err := repo.Service(ctx, sc, "c", "web")
	if err != nil || len(s.ServiceDeployments) != 2 {
		t.Fatalf("service: %v %+v", err, s)
	}
	var arns []string
	for _, d := range s.ServiceDeployments {
		arns = append(arns, sc.ServiceRevisionARN("c", "web", d.ID()))
	}
	views, failures, err := plane.DescribeServiceRevisions(ctx, sc, arns)
	if err != nil || len(failures) > 0 || len(views) != 2 {
		t.Fatalf("describe: %v %v %d", err, failures, len(views))
	}
	// Newest first: the forced deployment resolved the moved tag, the
	// first keeps what it started with.
	for i, want := range []string{"sha256:2222", "sha256:1111"} {
		r := views[i].Deployment.Revision
		if r == nil || len(r.ContainerImages) != 1 || r.ContainerImages[0] != (ecs.ContainerImage{ContainerName: "app", Image: "busybox", ImageDigest: want}) {
			t.Errorf("revision %d: %+v, want busybox at %s", i, r, want)
		}
	}
}
