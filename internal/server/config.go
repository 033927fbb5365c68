package server

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Config is everything `berth server` can be told. Each field is settable,
// in increasing precedence, by its default, the config file (JSON, keys as
// the json tags), the environment (BERTH_ + upper-cased tag) and flags.
type Config struct {
	Listen          string `json:"listen"`
	DataDir         string `json:"data_dir"`
	Region          string `json:"region"`
	Account         string `json:"account"`
	CredentialsFile string `json:"credentials_file"`
	StrictAuth      bool   `json:"strict_auth"`
	// EnforceIAM refuses calls signed with an IAM user's or an
	// assumed role's credentials unless their identity policies allow
	// them (the root and default credentials may do anything).
	EnforceIAM bool   `json:"enforce_iam"`
	LogLevel   string `json:"log_level"`
	LogFormat  string `json:"log_format"`
	// RegistryHost is host[:port] of the ECR registry as docker reaches it
	// (repositoryUri, proxyEndpoint); "" means the listen address.
	RegistryHost string `json:"registry_host"`
	// LifecycleInterval is how often ECR lifecycle policies are applied
	// (a Go duration, "30s" when empty).
	LifecycleInterval string `json:"lifecycle_interval"`
	// RegistryGCGracePeriod protects blobs this recent from the registry's
	// garbage collection (a Go duration, "1h" when empty).
	RegistryGCGracePeriod string `json:"registry_gc_grace_period"`
	// Driver runs the managed (Fargate) capacity's containers: "docker"
	// (default) or "fake".
	Driver string `json:"driver"`
	// AgentDisconnectTimeout is how long a container instance's agent may
	// stay disconnected before its tasks are stopped (a Go duration, "3m"
	// when empty).
	AgentDisconnectTimeout string `json:"agent_disconnect_timeout"`
	// Store selects the state store: "bolt" (default, <data_dir>/state.db),
	// "embedded-etcd" (a single-node etcd in <data_dir>/etcd) or
	// "etcd://host:port[,host:port...][/namespace]" (an external etcd
	// shared by several berth servers). See ParseStore.
	Store string `json:"store"`
	// AdvertiseAddr is host:port at which the other servers sharing the
	// store reach this one (they fetch registry blobs from it); "" means
	// the listen address, with an unspecified host replaced by the
	// machine's hostname.
	AdvertiseAddr string `json:"advertise_addr"`
	// EtcdCA, EtcdCert and EtcdKey are PEM files for an etcds:// store:
	// the CA that signs the etcd members' certificates (default: the
	// system's roots) and the client certificate and key, if the members
	// ask for one.
	EtcdCA   string `json:"etcd_ca"`
	EtcdCert string `json:"etcd_cert"`
	EtcdKey  string `json:"etcd_key"`
	// TaskRetention is how long STOPPED tasks stay visible (a Go
	// duration, "1h" when empty).
	TaskRetention string `json:"task_retention"`
	// MetricTimeScale divides CloudWatch's metric periods and alarm
	// evaluation intervals for local testing: "60" makes a 60-second
	// period last one second (the arithmetic is AWS's). "" or "1" is
	// AWS's time.
	MetricTimeScale string `json:"metric_time_scale"`
	// DeploymentTimeScale divides the bake times of blue/green, linear
	// and canary deployments for local testing: "60" makes a
	// bakeTimeInMinutes of 1 last one second. "" or "1" is AWS's time.
	DeploymentTimeScale string `json:"deployment_time_scale"`
}

// Defaults returns the embedded defaults: no setup needed.
func Defaults() Config {
	return Config{
		Listen:    "127.0.0.1:4566",
		DataDir:   defaultDataDir(),
		Region:    "us-east-1",
		Account:   "123456789012",
		LogLevel:  "info",
		LogFormat: "text",
	}
}

func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "berth")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "berth")
	}
	return ".berth"
}

// LoadFile overlays a JSON config file on c. Unknown keys are an error so
// that a typo does not go unnoticed.
func (c *Config) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// LoadEnv overlays BERTH_* environment variables on c.
func (c *Config) LoadEnv(getenv func(string) string) error {
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	str("BERTH_LISTEN", &c.Listen)
	str("BERTH_DATA_DIR", &c.DataDir)
	str("BERTH_REGION", &c.Region)
	str("BERTH_ACCOUNT", &c.Account)
	str("BERTH_CREDENTIALS_FILE", &c.CredentialsFile)
	str("BERTH_LOG_LEVEL", &c.LogLevel)
	str("BERTH_LOG_FORMAT", &c.LogFormat)
	str("BERTH_REGISTRY_HOST", &c.RegistryHost)
	str("BERTH_LIFECYCLE_INTERVAL", &c.LifecycleInterval)
	str("BERTH_REGISTRY_GC_GRACE_PERIOD", &c.RegistryGCGracePeriod)
	str("BERTH_DRIVER", &c.Driver)
	str("BERTH_AGENT_DISCONNECT_TIMEOUT", &c.AgentDisconnectTimeout)
	str("BERTH_TASK_RETENTION", &c.TaskRetention)
	str("BERTH_METRIC_TIME_SCALE", &c.MetricTimeScale)
	str("BERTH_DEPLOYMENT_TIME_SCALE", &c.DeploymentTimeScale)
	str("BERTH_STORE", &c.Store)
	str("BERTH_ADVERTISE_ADDR", &c.AdvertiseAddr)
	str("BERTH_ETCD_CA", &c.EtcdCA)
	str("BERTH_ETCD_CERT", &c.EtcdCert)
	str("BERTH_ETCD_KEY", &c.EtcdKey)
	if v := getenv("BERTH_STRICT_AUTH"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("BERTH_STRICT_AUTH: %w", err)
		}
		c.StrictAuth = b
	}
	if v := getenv("BERTH_ENFORCE_IAM"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("BERTH_ENFORCE_IAM: %w", err)
		}
		c.EnforceIAM = b
	}
	return nil
}

// Validate checks the config before anything starts.
func (c *Config) Validate() error {
	if len(c.Account) != 12 || strings.Trim(c.Account, "0123456789") != "" {
		return fmt.Errorf("account %q must be 12 digits", c.Account)
	}
	if c.Region == "" {
		return fmt.Errorf("region must not be empty")
	}
	if c.DataDir == "" {
		return fmt.Errorf("data directory must not be empty")
	}
	if _, err := ParseStore(c.Store); err != nil {
		return err
	}
	if c.AdvertiseAddr != "" {
		if host, port, err := net.SplitHostPort(c.AdvertiseAddr); err != nil || host == "" || port == "" {
			return fmt.Errorf("advertise address %q must be host:port", c.AdvertiseAddr)
		}
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("log format %q: want text or json", c.LogFormat)
	}
	return nil
}
