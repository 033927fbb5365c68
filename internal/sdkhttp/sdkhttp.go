package sdkhttp

import (
	"io"
	"net/http"
	"time"
)

// Client returns an *http.Client for aws-sdk-go-v2 clients with the given
// overall timeout (0: none) over http.DefaultTransport.
func Client(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: Transport(http.DefaultTransport)}
}

// Transport wraps base so that request bodies never offer WriteTo to it.
func Transport(base http.RoundTripper) http.RoundTripper {
	return readOnlyBodies{base}
}

type readOnlyBodies struct{ base http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t readOnlyBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		if _, ok := r.Body.(io.WriterTo); ok {
			r = r.Clone(r.Context()) // a RoundTripper must not modify the request
			r.Body = readCloser{r.Body}
		}
	}
	return t.base.RoundTrip(r)
}

// readCloser has only Read and Close, whatever the body it wraps offers.
type readCloser struct{ io.ReadCloser }
