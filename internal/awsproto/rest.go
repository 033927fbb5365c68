package awsproto

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
)

// restJson1 operations are routed by HTTP method and path. Inputs come from
// the JSON body plus fields bound to the request with tags:
//
//	Name  string `json:"-" location:"uri" locationName:"name"`
//	Max   *int   `json:"-" location:"querystring" locationName:"maxResults"`
//	Token string `json:"-" location:"header" locationName:"X-Amz-Token"`

// routeHandler marks a registered route in a service's ServeMux. The mux
// only matches; the Router runs the operation.
type routeHandler struct {
	route Route
	names []string // path wildcards
}

type routeMatchKey struct{}

type routeMatch struct {
	h      *routeHandler
	params map[string]string
}

func (h *routeHandler) ServeHTTP(_ http.ResponseWriter, r *http.Request) {
	m, _ := r.Context().Value(routeMatchKey{}).(*routeMatch)
	if m == nil {
		return
	}
	m.h = h
	if len(h.names) > 0 {
		m.params = make(map[string]string, len(h.names))
		for _, n := range h.names {
			m.params[n] = r.PathValue(n)
		}
	}
}

// restMux compiles a service's routes. It panics on a route whose operation
// is missing or whose pattern is invalid or conflicting (programming errors).
func restMux(s *Service) *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range s.Routes {
		if _, ok := s.Ops[rt.Operation]; !ok {
			panic(fmt.Sprintf("awsproto: service %s: route %s %s names unknown operation %q", s.SigningName, rt.Method, rt.Path, rt.Operation))
		}
		pattern := rt.Path
		if rt.Method != "" {
			pattern = rt.Method + " " + rt.Path
		}
		mux.Handle(pattern, &routeHandler{route: rt, names: wildcardNames(rt.Path)})
	}
	return mux
}

// wildcardNames returns the names of the {name} and {name...} segments of
// a ServeMux path pattern.
func wildcardNames(path string) []string {
	var names []string
	for _, seg := range strings.Split(path, "/") {
		if len(seg) < 3 || seg[0] != '{' || seg[len(seg)-1] != '}' {
			continue
		}
		name := strings.TrimSuffix(seg[1:len(seg)-1], "...")
		if name != "$" {
			names = append(names, name)
		}
	}
	return names
}

// matchRoute finds the route of r in mux, with its path parameters.
func matchRoute(mux *http.ServeMux, r *http.Request) (*routeHandler, map[string]string, bool) {
	if mux == nil {
		return nil, nil, false
	}
	if h, _ := mux.Handler(r); h == nil {
		return nil, nil, false
	} else if _, ours := h.(*routeHandler); !ours {
		return nil, nil, false // not found, wrong method or a redirect
	}
	m := &routeMatch{}
	mux.ServeHTTP(discardWriter{}, r.WithContext(context.WithValue(r.Context(), routeMatchKey{}, m)))
	if m.h == nil {
		return nil, nil, false
	}
	return m.h, m.params, true
}

type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}

func (rt *Router) serveRest(w http.ResponseWriter, svc *Service, c *Call, in *inbound) {
	r := in.r
	h, params, ok := matchRoute(rt.rest[svc], r)
	if !ok {
		writeRestError(w, errUnknownRoute(r.Method, r.URL.EscapedPath()))
		return
	}
	c.Operation, c.PathParams = h.route.Operation, params
	out, err := rt.invoke(r.Context(), svc, c, &restDecoder{body: in.body, r: r, params: params})
	if err != nil {
		writeRestError(w, asError(err, svc))
		return
	}
	status := h.route.Status
	if status == 0 {
		status = http.StatusOK
	}
	writeRestOutput(w, status, out)
}

func writeRestOutput(w http.ResponseWriter, status int, out any) {
	if status == http.StatusNoContent || status == http.StatusNotModified {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, "application/json", status, out)
}

// writeRestError writes a restJson1 error: the code in X-Amzn-Errortype
// (and __type), the message in the body.
func writeRestError(w http.ResponseWriter, e *Error) {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.Code, e.Message})
	w.Header().Set("X-Amzn-Errortype", e.Code)
	writeBody(w, "application/json", e.Status, b)
}

// restDecoder decodes a restJson1 input: the JSON body, then the fields
// bound to the path, the query string and headers.
type restDecoder struct {
	body   []byte
	r      *http.Request
	params map[string]string
}

func (d *restDecoder) Decode(v any) error {
	if err := unmarshalJSON(d.body, v); err != nil {
		return err
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errInternal(fmt.Sprintf("awsproto: Decode needs a non-nil pointer, got %T", v))
	}
	if rv = rv.Elem(); rv.Kind() == reflect.Struct {
		if err := d.bind(rv); err != nil {
			return err
		}
	}
	return validate(v)
}

// bind sets the location-bound fields of the struct v.
func (d *restDecoder) bind(v reflect.Value) *Error {
	var query map[string][]string
	for _, f := range fieldsOf(v.Type()) {
		name := f.locName
		if name == "" {
			name = f.jsonName
		}
		var vals []string
		switch f.location {
		case "uri":
			if p, ok := d.params[name]; ok {
				vals = []string{p}
			}
		case "querystring":
			if query == nil {
				query = d.r.URL.Query()
			}
			vals = query[name]
		case "header":
			vals = d.r.Header.Values(name)
		default:
			continue
		}
		if len(vals) == 0 {
			continue
		}
		fv, ok := fieldByIndexAlloc(v, f.index)
		if !ok {
			continue
		}
		if err := setBound(fv, vals, f.location, name); err != nil {
			return err
		}
	}
	return nil
}

// fieldByIndexAlloc is v.FieldByIndex, allocating nil embedded pointers.
func fieldByIndexAlloc(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, false
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, v.CanSet()
}

// setBound sets a location-bound field from its request values: a list
// field takes every value (header lists are comma-separated), a scalar the
// first.
func setBound(v reflect.Value, vals []string, location, name string) *Error {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	if v.Kind() == reflect.Slice && !isScalar(v.Type()) {
		if location == "header" {
			vals = splitHeaderList(vals)
		}
		list := reflect.MakeSlice(v.Type(), len(vals), len(vals))
		for i, s := range vals {
			if err := setBoundScalar(list.Index(i), s, name); err != nil {
				return err
			}
		}
		v.Set(list)
		return nil
	}
	return setBoundScalar(v, vals[0], name)
}

func setBoundScalar(v reflect.Value, s, name string) *Error {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	if constraint, ok := setString(v, s); !ok {
		return errSerialization("Value '%s' at '%s' failed to satisfy constraint: %s", truncate(s, 256), name, constraint)
	}
	return nil
}

func splitHeaderList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
