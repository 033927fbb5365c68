package awsproto

import "net/http"

func restMux(s *Service) *http.ServeMux { return http.NewServeMux() }

func (rt *Router) serveRest(w http.ResponseWriter, r *http.Request, svc *Service, c *Call, body []byte) {
	writeRestError(w, errUnknownOperation(r.Method+" "+r.URL.Path))
}

func writeRestError(w http.ResponseWriter, e *Error) { writeJSONError(w, JSON11, e) }
