package ecs

import (
	"regexp"
	"time"
)

// Cluster statuses.
const (
	ClusterActive   = "ACTIVE"
	ClusterInactive = "INACTIVE"
)

// The capacity providers every cluster may use without creating them.
const (
	CapacityFargate     = "FARGATE"
	CapacityFargateSpot = "FARGATE_SPOT"
)

// Cluster is an ECS cluster. Task, instance and service counts are not
// stored: they are derived from the tasks, instances and services in the
// store when a cluster is described.
type Cluster struct {
	Name                            string                     `json:"name"`
	ARN                             string                     `json:"arn"`
	Status                          string                     `json:"status"`
	CreatedAt                       time.Time                  `json:"createdAt"`
	Settings                        []ClusterSetting           `json:"settings,omitempty"`
	Configuration                   *ClusterConfiguration      `json:"configuration,omitempty"`
	CapacityProviders               []string                   `json:"capacityProviders,omitempty"`
	DefaultCapacityProviderStrategy []CapacityProviderStrategy `json:"defaultCapacityProviderStrategy,omitempty"`
	ServiceConnectDefaults          *ServiceConnectDefaults    `json:"serviceConnectDefaults,omitempty"`
}

// ClusterSetting is a cluster setting (today only containerInsights).
type ClusterSetting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ClusterConfiguration is a cluster's execute-command and storage configuration.
type ClusterConfiguration struct {
	ExecuteCommandConfiguration *ExecuteCommandConfiguration `json:"executeCommandConfiguration,omitempty"`
	ManagedStorageConfiguration *ManagedStorageConfiguration `json:"managedStorageConfiguration,omitempty"`
}

// ExecuteCommandConfiguration configures ECS Exec for a cluster.
type ExecuteCommandConfiguration struct {
	KmsKeyID         string                          `json:"kmsKeyId,omitempty"`
	Logging          string                          `json:"logging,omitempty"`
	LogConfiguration *ExecuteCommandLogConfiguration `json:"logConfiguration,omitempty"`
}

// ExecuteCommandLogConfiguration says where ECS Exec session logs go.
type ExecuteCommandLogConfiguration struct {
	CloudWatchLogGroupName      string `json:"cloudWatchLogGroupName,omitempty"`
	CloudWatchEncryptionEnabled *bool  `json:"cloudWatchEncryptionEnabled,omitempty"`
	S3BucketName                string `json:"s3BucketName,omitempty"`
	S3EncryptionEnabled         *bool  `json:"s3EncryptionEnabled,omitempty"`
	S3KeyPrefix                 string `json:"s3KeyPrefix,omitempty"`
}

// ManagedStorageConfiguration configures managed storage encryption.
type ManagedStorageConfiguration struct {
	KmsKeyID                        string `json:"kmsKeyId,omitempty"`
	FargateEphemeralStorageKmsKeyID string `json:"fargateEphemeralStorageKmsKeyId,omitempty"`
}

// ServiceConnectDefaults is a cluster's default Service Connect namespace.
type ServiceConnectDefaults struct {
	Namespace string `json:"namespace,omitempty"`
}

// CapacityProviderStrategy is one item of a capacity provider strategy.
type CapacityProviderStrategy struct {
	CapacityProvider string `json:"capacityProvider"`
	Weight           int    `json:"weight"`
	Base             int    `json:"base"`
}

var clusterNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// ValidateClusterName checks a cluster name as ECS does.
func ValidateClusterName(name string) error {
	if !clusterNameRE.MatchString(name) {
		return invalidParam("Cluster name %q is invalid: up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.", name)
	}
	return nil
}

// ValidateSettings checks cluster settings.
func ValidateSettings(settings []ClusterSetting) error {
	for _, s := range settings {
		if s.Name != "containerInsights" {
			return invalidParam("Cluster setting name %q is invalid. Valid values: containerInsights.", s.Name)
		}
		switch s.Value {
		case "enabled", "disabled", "enhanced":
		default:
			return invalidParam("Cluster setting value %q for containerInsights is invalid. Valid values: enabled, disabled, enhanced.", s.Value)
		}
	}
	return nil
}

// ValidateCapacityProviders checks a cluster's capacity providers and default
// strategy. Only FARGATE and FARGATE_SPOT exist until Auto Scaling group
// capacity providers are implemented.
func ValidateCapacityProviders(providers []string, strategy []CapacityProviderStrategy) error {
	known := map[string]bool{}
	for _, p := range providers {
		if p != CapacityFargate && p != CapacityFargateSpot {
			return invalidParam("The specified capacity provider %s does not exist. Specify a valid capacity provider and try again.", p)
		}
		if known[p] {
			return invalidParam("The capacity provider %s is specified more than once.", p)
		}
		known[p] = true
	}
	base := 0
	seen := map[string]bool{}
	for _, s := range strategy {
		if !known[s.CapacityProvider] {
			return invalidParam("The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.")
		}
		if seen[s.CapacityProvider] {
			return invalidParam("The capacity provider %s is specified more than once in the strategy.", s.CapacityProvider)
		}
		seen[s.CapacityProvider] = true
		if s.Weight < 0 || s.Weight > 1000 {
			return invalidParam("The capacity provider strategy weight must be between 0 and 1000.")
		}
		if s.Base < 0 || s.Base > 100000 {
			return invalidParam("The capacity provider strategy base must be between 0 and 100000.")
		}
		if s.Base > 0 {
			base++
		}
	}
	if base > 1 {
		return invalidParam("Only one capacity provider in a capacity provider strategy can have a base defined.")
	}
	return nil
}

// NewCluster returns an ACTIVE cluster with ECS's defaults.
func NewCluster(scope Scope, name string, now time.Time) *Cluster {
	return &Cluster{
		Name: name, ARN: scope.ClusterARN(name), Status: ClusterActive, CreatedAt: now,
		Settings: []ClusterSetting{{Name: "containerInsights", Value: "disabled"}},
	}
}
