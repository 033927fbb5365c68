// Package iamapi maps the IAM (awsQuery, 2010-05-08) and STS (awsQuery,
// 2011-06-15) wire shapes of botocore's models to the iamcp control
// plane. IAM answers policy documents URL-encoded, as AWS does.
package iamapi
