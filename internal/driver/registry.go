package driver

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Config is what [Open] hands a driver's [Factory].
type Config struct {
	// Logger receives the driver's logs; nil means slog.Default().
	Logger *slog.Logger
	// Params are driver-specific settings, documented by each driver
	// (e.g. "host" for the docker driver).
	Params map[string]string
}

// Factory creates a driver from its configuration.
type Factory func(cfg Config) (Driver, error)

var (
	registryMu sync.RWMutex
	factories  = map[string]Factory{}
)

// Register makes a driver available by name to [Open]. It is meant to be
// called from the driver package's init function. Registering the same name
// twice, or a nil factory, panics.
func Register(name string, factory Factory) {
	if factory == nil {
		panic("driver: Register factory is nil for " + name)
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := factories[name]; dup {
		panic("driver: Register called twice for driver " + name)
	}
	factories[name] = factory
}

// Drivers returns the names of the registered drivers, sorted.
func Drivers() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return slices.Sorted(maps.Keys(factories))
}

// Open creates a driver by its registered name. An unknown name yields an
// *UnknownDriverError.
func Open(name string, cfg Config) (Driver, error) {
	registryMu.RLock()
	factory, ok := factories[name]
	registryMu.RUnlock()
	if !ok {
		return nil, &UnknownDriverError{Name: name, Registered: Drivers()}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	d, err := factory(cfg)
	if err != nil {
		return nil, fmt.Errorf("driver %s: %w", name, err)
	}
	return d, nil
}

// UnknownDriverError is returned by [Open] for a name nobody registered.
type UnknownDriverError struct {
	Name       string
	Registered []string // the names that are registered
}

func (e *UnknownDriverError) Error() string {
	return fmt.Sprintf("driver: unknown driver %q (registered: %s); forgotten import?",
		e.Name, strings.Join(e.Registered, ", "))
}
