// Package cwapi is the CloudWatch (monitoring) API: it maps the wire shapes
// of botocore's cloudwatch 2010-08-01 model to cwcp calls. One service
// speaks all three of the model's protocols: smithy-rpc-v2-cbor (current
// botocore and aws-sdk-go-v2), awsJson1.0 and awsQuery (older SDKs and
// CLIs), with awsQueryCompatible error codes.
package cwapi
