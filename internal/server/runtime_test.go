package server

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/fake"
)

// A runtime that does not answer is named for what it is: Docker only
// when the driver is Docker's (issue 8, fault 3: a fake driver's failure
// read "Docker is unreachable").
func TestOpenManagedDriverNamesTheRuntime(t *testing.T) {
	drivers := driver.NewRegistry()
	drivers.Register("docker", func(driver.Config) (driver.Driver, error) { return deadDriver{fake.New(fake.Options{})}, nil })
	drivers.Register("fake", func(driver.Config) (driver.Driver, error) { return deadDriver{fake.New(fake.Options{})}, nil })
	log := slog.New(slog.DiscardHandler)
	if _, err := openManagedDriver(drivers, "fake", "o1", log); err == nil || strings.Contains(err.Error(), "Docker") ||
		!strings.Contains(err.Error(), "the fake container driver is unreachable: ping refused") {
		t.Errorf("fake driver: %v", err)
	}
	if _, err := openManagedDriver(drivers, "docker", "o1", log); err == nil || !strings.HasPrefix(err.Error(), "Docker is unreachable: ping refused") {
		t.Errorf("docker driver: %v", err)
	}
}

// deadDriver is a driver whose Ping fails.
type deadDriver struct{ *fake.Driver }

func (deadDriver) Ping(context.Context) error { return errors.New("ping refused") }
