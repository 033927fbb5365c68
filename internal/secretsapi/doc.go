// Package secretsapi maps the Secrets Manager (awsJson1.1, target prefix
// "secretsmanager") and SSM Parameter Store (awsJson1.1, "AmazonSSM")
// wire shapes of botocore's models to the secretscp control plane.
package secretsapi
