package driver

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
)

// Config is what [Registry.Open] hands a driver's [Factory].
type Config struct {
	// Logger receives the driver's logs; nil means a logger that discards.
	Logger *slog.Logger
	// Params are driver-specific settings, documented by each driver
	// (e.g. "host" for the docker driver).
	Params map[string]string
}

// Factory creates a driver from its configuration.
type Factory func(cfg Config) (Driver, error)

// Registry names the drivers a program can open. It is a value the
// composition root builds (there is no package-level registry): the
// program registers the drivers it links, then opens the one its
// configuration names. A Registry is not safe for concurrent Register
// calls; build it before use.
type Registry struct {
	factories map[string]Factory
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{factories: map[string]Factory{}} }

// Register makes a driver available by name. Registering the same name
// twice, an empty name or a nil factory panics: it is a programming error
// of the composition root.
func (r *Registry) Register(name string, factory Factory) {
	if name == "" {
		panic("driver: Register with an empty name")
	}
	if factory == nil {
		panic("driver: Register factory is nil for " + name)
	}
	if _, dup := r.factories[name]; dup {
		panic("driver: Register called twice for driver " + name)
	}
	r.factories[name] = factory
}

// Names returns the names of the registered drivers, sorted.
func (r *Registry) Names() []string { return slices.Sorted(maps.Keys(r.factories)) }

// Has reports whether name is registered (for validating configuration
// before anything opens).
func (r *Registry) Has(name string) bool {
	_, ok := r.factories[name]
	return ok
}

// Check returns an *UnknownDriverError when name is not registered.
func (r *Registry) Check(name string) error {
	if !r.Has(name) {
		return &UnknownDriverError{Name: name, Registered: r.Names()}
	}
	return nil
}

// Open creates a driver by its registered name. An unknown name yields an
// *UnknownDriverError.
func (r *Registry) Open(name string, cfg Config) (Driver, error) {
	factory, ok := r.factories[name]
	if !ok {
		return nil, &UnknownDriverError{Name: name, Registered: r.Names()}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d, err := factory(cfg)
	if err != nil {
		return nil, fmt.Errorf("driver %s: %w", name, err)
	}
	return d, nil
}

// UnknownDriverError is returned by [Registry.Open] for a name nobody
// registered.
type UnknownDriverError struct {
	Name       string
	Registered []string // the names that are registered
}

func (e *UnknownDriverError) Error() string {
	return fmt.Sprintf("unknown container driver %q (want one of: %s)", e.Name, strings.Join(e.Registered, ", "))
}
