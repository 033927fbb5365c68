package docker_test

import (
	"testing"

	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
	"github.com/berth-dev/berth/internal/driver/drivertest"
)

func TestConformance(t *testing.T) {
	d := dockertest.New(t)
	drivertest.Run(t, d, dockertest.Env(t, d))
}
