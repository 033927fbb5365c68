package awsproto

import (
	"context"
	"net/http"
	"net/url"
)

// queryAction returns the awsQuery Action of a request.
func queryAction(r *http.Request, body []byte) string { return queryParam(r, body, "Action") }

func queryParam(r *http.Request, body []byte, name string) string {
	if v, err := url.ParseQuery(string(body)); err == nil && v.Get(name) != "" {
		return v.Get(name)
	}
	return r.URL.Query().Get(name)
}

// serveQuery is implemented in the awsQuery codec (query_codec.go).
func (rt *Router) serveQuery(w http.ResponseWriter, ctx context.Context, svc *Service, c *Call, body []byte) {
	writeQueryError(w, c.RequestID, errUnknownOperation(c.Operation))
}

func writeQueryError(w http.ResponseWriter, reqID string, e *Error) {
	writeJSONError(w, JSON11, e) // replaced by the XML ErrorResponse encoder
}
