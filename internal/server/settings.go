package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strconv"
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
	metricScale       float64 // >= 1
	deployScale       float64 // >= 1
	// etcdTLS is the etcd client's TLS configuration (etcds:// stores;
	// nil otherwise), its files read once.
	etcdTLS *tls.Config
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
	s.metricScale = 1
	if cfg.MetricTimeScale != "" {
		f, err := strconv.ParseFloat(cfg.MetricTimeScale, 64)
		if err != nil || f < 1 || f > 3600 {
			return s, fmt.Errorf("metric_time_scale %q: must be a number from 1 to 3600", cfg.MetricTimeScale)
		}
		s.metricScale = f
	}
	s.deployScale = 1
	if cfg.DeploymentTimeScale != "" {
		f, err := strconv.ParseFloat(cfg.DeploymentTimeScale, 64)
		if err != nil || f < 1 || f > 3600 {
			return s, fmt.Errorf("deployment_time_scale %q: must be a number from 1 to 3600", cfg.DeploymentTimeScale)
		}
		s.deployScale = f
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
	if s.etcdTLS, err = etcdTLS(cfg); err != nil {
		return s, err
	}
	return s, nil
}

// etcdTLS builds the etcd client's TLS configuration from the etcd_ca,
// etcd_cert and etcd_key files, for an etcds:// store: the CA that signs
// the members' certificates (the system's roots without one) and the
// client certificate (both or neither of cert and key). The files are an
// error with any other store.
func etcdTLS(cfg Config) (*tls.Config, error) {
	spec, err := ParseStore(cfg.Store)
	if err != nil {
		return nil, err
	}
	files := cfg.EtcdCA != "" || cfg.EtcdCert != "" || cfg.EtcdKey != ""
	if !spec.TLS {
		if files {
			return nil, fmt.Errorf("etcd_ca, etcd_cert and etcd_key are for an etcds:// store (TLS), not %q", cfg.Store)
		}
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.EtcdCA != "" {
		pem, err := os.ReadFile(cfg.EtcdCA)
		if err != nil {
			return nil, fmt.Errorf("etcd CA: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("etcd CA %s: no PEM certificate in it", cfg.EtcdCA)
		}
	}
	if (cfg.EtcdCert == "") != (cfg.EtcdKey == "") {
		return nil, fmt.Errorf("etcd client certificate: give both etcd_cert and etcd_key, or neither")
	}
	if cfg.EtcdCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.EtcdCert, cfg.EtcdKey)
		if err != nil {
			return nil, fmt.Errorf("etcd client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
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
