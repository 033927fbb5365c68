package docker_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// TestPullWithRegistryAuth pulls from a local registry that demands basic
// auth, as ECR does.
func TestPullWithRegistryAuth(t *testing.T) {
	d := dockertest.New(t)
	reg := dockertest.NewRegistry(t, "AWS", "s3cret")
	ref := reg.Push(t, "berth-test/private", "v1", map[string]string{"/hello": "hello\n"})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	t.Cleanup(func() {
		_, _ = d.Client().ImageRemove(context.Background(), ref, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	})

	for name, auth := range map[string]driver.RegistryAuth{
		"anonymous":      {},
		"wrong password": {Username: "AWS", Password: "nope", ServerAddress: reg.Host},
	} {
		err := d.PullImage(ctx, ref, auth)
		var pe *driver.PullError
		if !errors.As(err, &pe) || pe.Message == "" {
			t.Errorf("%s pull = %v; want a PullError", name, err)
			continue
		}
		t.Logf("%s: CannotPullContainerError: %s", name, pe.Message)
	}
	if ok, err := d.ImagePresent(ctx, ref); err != nil || ok {
		t.Fatalf("ImagePresent before a successful pull = %v, %v", ok, err)
	}

	auth := driver.RegistryAuth{Username: "AWS", Password: "s3cret", ServerAddress: reg.Host}
	if err := d.PullImage(ctx, ref, auth); err != nil {
		t.Fatalf("PullImage with credentials: %v", err)
	}
	if ok, err := d.ImagePresent(ctx, ref); err != nil || !ok {
		t.Errorf("ImagePresent after pull = %v, %v; want true", ok, err)
	}
	if !slices.Contains(reg.Authorizations(), dockertest.BasicAuth("AWS", "s3cret")) {
		t.Errorf("registry never saw the credentials; got %v", reg.Authorizations())
	}

	missing := reg.Host + "/berth-test/private:nope"
	err := d.PullImage(ctx, missing, auth)
	if err == nil || !strings.Contains(err.Error(), "manifest unknown") {
		t.Errorf("pull of a missing tag = %v; want the registry's 'manifest unknown'", err)
	}
}
