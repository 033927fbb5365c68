// Package logsapi maps CloudWatch Logs' awsJson1.1 wire shapes (target
// prefix Logs_20140328, signing name "logs") to the logscp control plane.
package logsapi
