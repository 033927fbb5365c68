package server

import (
	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/docker"
	"github.com/berth-dev/berth/internal/driver/fake"
)

// Drivers returns the container drivers this binary links, by name: the
// registry the server's managed capacity and `berth agent` open their
// driver from.
func Drivers() *driver.Registry {
	r := driver.NewRegistry()
	r.Register("docker", docker.Open)
	r.Register("fake", fake.Open)
	return r
}
