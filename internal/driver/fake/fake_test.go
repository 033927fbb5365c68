package fake_test

import (
	"testing"

	"github.com/berth-dev/berth/internal/driver/drivertest"
	"github.com/berth-dev/berth/internal/driver/fake"
)

func TestConformance(t *testing.T) {
	d := fake.New(fake.Options{Images: []string{"berth-test/busybox:latest"}})
	d.FailPull("127.0.0.1:1/berth-test/missing:latest", `Error response from daemon: Get "http://127.0.0.1:1/v2/": connection refused`)
	drivertest.Run(t, d, drivertest.Env{Image: "berth-test/busybox:latest", MissingImage: "127.0.0.1:1/berth-test/missing:latest"})
}
