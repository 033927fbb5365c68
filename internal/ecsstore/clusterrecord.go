package ecsstore

import (
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// The stored form of a cluster (clusters/ records).

// clusterRecord is a cluster as stored under clusters/<name>. Its task,
// instance and service counts are not stored: they are counted when the
// cluster is described.
type clusterRecord struct {
	Name                            string                           `json:"name,omitempty"`
	ARN                             string                           `json:"arn,omitempty"`
	Status                          string                           `json:"status,omitempty"`
	CreatedAt                       time.Time                        `json:"createdAt,omitzero"`
	Settings                        []clusterSettingRecord           `json:"settings,omitempty"`
	Configuration                   *clusterConfigurationRecord      `json:"configuration,omitempty"`
	CapacityProviders               []string                         `json:"capacityProviders,omitempty"`
	DefaultCapacityProviderStrategy []capacityProviderStrategyRecord `json:"defaultCapacityProviderStrategy,omitempty"`
	ServiceConnectDefaults          *serviceConnectDefaultsRecord    `json:"serviceConnectDefaults,omitempty"`
}

func clusterRecordOf(v *ecs.Cluster) clusterRecord {
	return clusterRecord{
		Name:                            v.Name,
		ARN:                             v.ARN,
		Status:                          v.Status,
		CreatedAt:                       v.CreatedAt,
		Settings:                        mapSlice(v.Settings, clusterSettingRecordOf),
		Configuration:                   mapPtr(v.Configuration, clusterConfigurationRecordOf),
		CapacityProviders:               v.CapacityProviders,
		DefaultCapacityProviderStrategy: mapSlice(v.DefaultCapacityProviderStrategy, capacityProviderStrategyRecordOf),
		ServiceConnectDefaults:          mapPtr(v.ServiceConnectDefaults, serviceConnectDefaultsRecordOf),
	}
}

func (r *clusterRecord) domain() ecs.Cluster {
	return ecs.Cluster{
		Name:                            r.Name,
		ARN:                             r.ARN,
		Status:                          r.Status,
		CreatedAt:                       r.CreatedAt,
		Settings:                        mapSlice(r.Settings, (*clusterSettingRecord).domain),
		Configuration:                   mapPtr(r.Configuration, (*clusterConfigurationRecord).domain),
		CapacityProviders:               r.CapacityProviders,
		DefaultCapacityProviderStrategy: mapSlice(r.DefaultCapacityProviderStrategy, (*capacityProviderStrategyRecord).domain),
		ServiceConnectDefaults:          mapPtr(r.ServiceConnectDefaults, (*serviceConnectDefaultsRecord).domain),
	}
}

// clusterSettingRecord is the stored form of ecs.ClusterSetting.
type clusterSettingRecord struct {
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
}

func clusterSettingRecordOf(v *ecs.ClusterSetting) clusterSettingRecord {
	return clusterSettingRecord{
		Name:  v.Name,
		Value: v.Value,
	}
}

func (r *clusterSettingRecord) domain() ecs.ClusterSetting {
	return ecs.ClusterSetting{
		Name:  r.Name,
		Value: r.Value,
	}
}

// clusterConfigurationRecord is the stored form of ecs.ClusterConfiguration.
type clusterConfigurationRecord struct {
	ExecuteCommandConfiguration *executeCommandConfigurationRecord `json:"executeCommandConfiguration,omitempty"`
	ManagedStorageConfiguration *managedStorageConfigurationRecord `json:"managedStorageConfiguration,omitempty"`
}

func clusterConfigurationRecordOf(v *ecs.ClusterConfiguration) clusterConfigurationRecord {
	return clusterConfigurationRecord{
		ExecuteCommandConfiguration: mapPtr(v.ExecuteCommandConfiguration, executeCommandConfigurationRecordOf),
		ManagedStorageConfiguration: mapPtr(v.ManagedStorageConfiguration, managedStorageConfigurationRecordOf),
	}
}

func (r *clusterConfigurationRecord) domain() ecs.ClusterConfiguration {
	return ecs.ClusterConfiguration{
		ExecuteCommandConfiguration: mapPtr(r.ExecuteCommandConfiguration, (*executeCommandConfigurationRecord).domain),
		ManagedStorageConfiguration: mapPtr(r.ManagedStorageConfiguration, (*managedStorageConfigurationRecord).domain),
	}
}

// executeCommandConfigurationRecord is the stored form of ecs.ExecuteCommandConfiguration.
type executeCommandConfigurationRecord struct {
	KmsKeyID         string                                `json:"kmsKeyId,omitempty"`
	Logging          string                                `json:"logging,omitempty"`
	LogConfiguration *executeCommandLogConfigurationRecord `json:"logConfiguration,omitempty"`
}

func executeCommandConfigurationRecordOf(v *ecs.ExecuteCommandConfiguration) executeCommandConfigurationRecord {
	return executeCommandConfigurationRecord{
		KmsKeyID:         v.KmsKeyID,
		Logging:          v.Logging,
		LogConfiguration: mapPtr(v.LogConfiguration, executeCommandLogConfigurationRecordOf),
	}
}

func (r *executeCommandConfigurationRecord) domain() ecs.ExecuteCommandConfiguration {
	return ecs.ExecuteCommandConfiguration{
		KmsKeyID:         r.KmsKeyID,
		Logging:          r.Logging,
		LogConfiguration: mapPtr(r.LogConfiguration, (*executeCommandLogConfigurationRecord).domain),
	}
}

// executeCommandLogConfigurationRecord is the stored form of ecs.ExecuteCommandLogConfiguration.
type executeCommandLogConfigurationRecord struct {
	CloudWatchLogGroupName      string `json:"cloudWatchLogGroupName,omitempty"`
	CloudWatchEncryptionEnabled *bool  `json:"cloudWatchEncryptionEnabled,omitempty"`
	S3BucketName                string `json:"s3BucketName,omitempty"`
	S3EncryptionEnabled         *bool  `json:"s3EncryptionEnabled,omitempty"`
	S3KeyPrefix                 string `json:"s3KeyPrefix,omitempty"`
}

func executeCommandLogConfigurationRecordOf(v *ecs.ExecuteCommandLogConfiguration) executeCommandLogConfigurationRecord {
	return executeCommandLogConfigurationRecord{
		CloudWatchLogGroupName:      v.CloudWatchLogGroupName,
		CloudWatchEncryptionEnabled: v.CloudWatchEncryptionEnabled,
		S3BucketName:                v.S3BucketName,
		S3EncryptionEnabled:         v.S3EncryptionEnabled,
		S3KeyPrefix:                 v.S3KeyPrefix,
	}
}

func (r *executeCommandLogConfigurationRecord) domain() ecs.ExecuteCommandLogConfiguration {
	return ecs.ExecuteCommandLogConfiguration{
		CloudWatchLogGroupName:      r.CloudWatchLogGroupName,
		CloudWatchEncryptionEnabled: r.CloudWatchEncryptionEnabled,
		S3BucketName:                r.S3BucketName,
		S3EncryptionEnabled:         r.S3EncryptionEnabled,
		S3KeyPrefix:                 r.S3KeyPrefix,
	}
}

// managedStorageConfigurationRecord is the stored form of ecs.ManagedStorageConfiguration.
type managedStorageConfigurationRecord struct {
	KmsKeyID                        string `json:"kmsKeyId,omitempty"`
	FargateEphemeralStorageKmsKeyID string `json:"fargateEphemeralStorageKmsKeyId,omitempty"`
}

func managedStorageConfigurationRecordOf(v *ecs.ManagedStorageConfiguration) managedStorageConfigurationRecord {
	return managedStorageConfigurationRecord{
		KmsKeyID:                        v.KmsKeyID,
		FargateEphemeralStorageKmsKeyID: v.FargateEphemeralStorageKmsKeyID,
	}
}

func (r *managedStorageConfigurationRecord) domain() ecs.ManagedStorageConfiguration {
	return ecs.ManagedStorageConfiguration{
		KmsKeyID:                        r.KmsKeyID,
		FargateEphemeralStorageKmsKeyID: r.FargateEphemeralStorageKmsKeyID,
	}
}

// capacityProviderStrategyRecord is the stored form of ecs.CapacityProviderStrategy.
type capacityProviderStrategyRecord struct {
	CapacityProvider string `json:"capacityProvider,omitempty"`
	Weight           int    `json:"weight,omitempty"`
	Base             int    `json:"base,omitempty"`
}

func capacityProviderStrategyRecordOf(v *ecs.CapacityProviderStrategy) capacityProviderStrategyRecord {
	return capacityProviderStrategyRecord{
		CapacityProvider: v.CapacityProvider,
		Weight:           v.Weight,
		Base:             v.Base,
	}
}

func (r *capacityProviderStrategyRecord) domain() ecs.CapacityProviderStrategy {
	return ecs.CapacityProviderStrategy{
		CapacityProvider: r.CapacityProvider,
		Weight:           r.Weight,
		Base:             r.Base,
	}
}

// serviceConnectDefaultsRecord is the stored form of ecs.ServiceConnectDefaults.
type serviceConnectDefaultsRecord struct {
	Namespace string `json:"namespace,omitempty"`
}

func serviceConnectDefaultsRecordOf(v *ecs.ServiceConnectDefaults) serviceConnectDefaultsRecord {
	return serviceConnectDefaultsRecord{
		Namespace: v.Namespace,
	}
}

func (r *serviceConnectDefaultsRecord) domain() ecs.ServiceConnectDefaults {
	return ecs.ServiceConnectDefaults{
		Namespace: r.Namespace,
	}
}
