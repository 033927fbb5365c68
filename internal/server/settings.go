package server

import (
	"fmt"
	"os"
	"time"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/driver"
)

// settings is a server Config fully parsed: every duration, the
// credentials file (read once) and the driver name checked against the
// registry, before anything opens.
type settings struct {
	Config
	// keys are the credentials file's access keys (nil without one).
	keys              map[string]awsproto.Credential
	lifecycleInterval time.Duration // 0: ecrapi's default
	gcGracePeriod     time.Duration // 0: ecrapi's default
	disconnectTimeout time.Duration // 0: controller's default
	taskRetention     time.Duration // 0: controller's default
	driver            string
}

// DefaultDriver is the managed capacity's container driver.
const DefaultDriver = "docker"

func parseSettings(cfg Config, drivers *driver.Registry) (settings, error) {
	s := settings{Config: cfg, driver: cfg.Driver}
	if err := cfg.Validate(); err != nil {
		return s, err
	}
	if s.driver == "" {
		s.driver = DefaultDriver
	}
	if err := drivers.Check(s.driver); err != nil {
		return s, fmt.Errorf("driver: %w", err)
	}
	var err error
	for _, d := range []struct {
		name string
		v    string
		dst  *time.Duration
	}{
		{"lifecycle_interval", cfg.LifecycleInterval, &s.lifecycleInterval},
		{"registry_gc_grace_period", cfg.RegistryGCGracePeriod, &s.gcGracePeriod},
		{"agent_disconnect_timeout", cfg.AgentDisconnectTimeout, &s.disconnectTimeout},
		{"task_retention", cfg.TaskRetention, &s.taskRetention},
	} {
		if *d.dst, err = optDuration(d.name, d.v); err != nil {
			return s, err
		}
	}
	if cfg.CredentialsFile != "" {
		f, err := os.Open(cfg.CredentialsFile)
		if err != nil {
			return s, fmt.Errorf("credentials file: %w", err)
		}
		defer f.Close()
		if s.keys, err = awsproto.ParseCredentials(f); err != nil {
			return s, fmt.Errorf("credentials file %s: %w", cfg.CredentialsFile, err)
		}
	}
	return s, nil
}

// optDuration parses an optional duration setting ("" means the default).
func optDuration(name, v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s: %q must be positive", name, v)
	}
	return d, nil
}
