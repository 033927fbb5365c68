// Package secrets is the domain of AWS Secrets Manager secrets (versions
// and their staging labels AWSCURRENT/AWSPREVIOUS, scheduled deletion,
// resource policies) and SSM Parameter Store parameters (String,
// StringList, SecureString, versions, labels), their ARNs and the
// `secrets[].valueFrom` references of ECS task definitions. It does no
// I/O; values are plain here and sealed by secretstore.
package secrets
