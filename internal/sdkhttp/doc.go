// Package sdkhttp is the HTTP client berth's aws-sdk-go-v2 clients use (the
// tests', `berth exec`'s): http.DefaultTransport behind one work-around for
// an aws-sdk-go-v2 (smithy-go) bug that makes a call fail after the server
// answered it, with "deserialization failed, read tcp ...: use of closed
// network connection" (aws-sdk-go-v2 issues #1825, #2737).
//
// How it happens: smithy-go wraps every request body in a "safe closer"
// that exposes WriteTo, and closes it as soon as http.Client.Do returns.
// net/http writes a body it does not know to be in memory straight to the
// socket after flushing the headers, then reads the body once more to check
// that nothing is left. A server as fast as berth on loopback answers in
// that window; Do returns, smithy-go closes the body, and the check's
// io.Copy calls the closed body's WriteTo, which returns io.EOF as an error
// (a WriteTo should return nil at the end). net/http's write loop takes it
// for a failed request write and closes the connection while the caller is
// still reading the response body. The SDK's standard retryer retries that
// error (it matches "use of closed network connection"), so it re-sends a
// request the server has already carried out; harmless for reads and
// token-idempotent calls, a duplicate for RegisterTaskDefinition,
// PutLogEvents or PutMetricData.
//
// The transport here hides the body's WriteTo, so the check reads the
// closed body with Read, which answers a plain end of data: no error, no
// closed connection, nothing re-sent. It changes nothing else.
package sdkhttp
