// Package awsproto is the server side of the AWS wire protocols, written once
// for every service berth serves: awsJson1.0/1.1 (dispatch by X-Amz-Target),
// awsQuery (form-encoded requests, XML responses) and restJson1 (HTTP method
// and path). It authenticates requests with SigV4, assigns request IDs,
// limits body sizes, recovers panics and encodes errors in each protocol's
// AWS shape. Service packages register a Service with typed operations and
// never see raw HTTP.
package awsproto
