// Package appscalingapi maps Application Auto Scaling's awsJson1.1 wire
// shapes (target prefix AnyScaleFrontendService, signing name
// application-autoscaling) to the appscalingcp control plane. Wire types
// (wire.go) are its own; handlers only convert and call the plane.
package appscalingapi
