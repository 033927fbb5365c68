package awsproto

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// awsQuery requests carry their input as form parameters (in the body or
// the query string): scalars as Name=value, lists as Name.member.N (or
// flattened Name.N), maps as Name.entry.N.key / .value and nested
// structures as Name.Member. Responses are XML documents.

const maxQueryDepth = 32 // deeper parameter names are ignored

// params returns the awsQuery parameters of the request: the query string
// followed by the form body. It parses them once.
func (in *inbound) params() (map[string][]string, *Error) {
	if in.parsed {
		return in.form, in.formErr
	}
	in.parsed = true
	in.form = map[string][]string{}
	if in.formErr = parseForm(in.r.URL.RawQuery, in.form); in.formErr != nil {
		return nil, in.formErr
	}
	if ct := in.r.Header.Get("Content-Type"); ct == "" || strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		in.formErr = parseForm(string(in.body), in.form)
	}
	return in.form, in.formErr
}

// parseForm adds the pairs of a form-encoded string to into.
func parseForm(raw string, into map[string][]string) *Error {
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return Errorf(http.StatusBadRequest, "MalformedQueryString", "The parameter '%s' is not valid form encoding.", truncate(part, 64))
		}
		into[key] = append(into[key], val)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// resolveQueryAction returns the operation named by the Action parameter.
func resolveQueryAction(svc *Service, in *inbound) (string, *Error) {
	params, err := in.params()
	if err != nil {
		return "", err
	}
	op := first(params["Action"])
	if op == "" {
		return "", Errorf(http.StatusBadRequest, "MissingAction", "Missing Action parameter.")
	}
	if _, ok := svc.Ops[op]; !ok {
		return "", Errorf(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version %s.", op, first(params["Version"]))
	}
	return op, nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func (rt *Router) serveQuery(w http.ResponseWriter, ctx context.Context, svc *Service, c *Call, in *inbound) {
	params, _ := in.params() // parsed successfully by resolve
	out, err := rt.invoke(ctx, svc, c, &queryDecoder{params: params})
	if err != nil {
		writeQueryError(w, svc.XMLNamespace, c.RequestID, asError(err, svc))
		return
	}
	b, err := encodeQueryResponse(svc.XMLNamespace, c.Operation, c.RequestID, out)
	if err != nil {
		rt.log.Error("encoding response", "service", svc.SigningName, "operation", c.Operation, "err", err)
		writeQueryError(w, svc.XMLNamespace, c.RequestID, errInternal("could not encode response: "+err.Error()))
		return
	}
	writeBody(w, "text/xml", http.StatusOK, b)
}

func writeBody(w http.ResponseWriter, contentType string, status int, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeQueryError writes an awsQuery ErrorResponse document.
func writeQueryError(w http.ResponseWriter, ns, reqID string, e *Error) {
	typ := "Sender"
	if !e.sender() {
		typ = "Receiver"
	}
	var b bytes.Buffer
	b.WriteString("<ErrorResponse")
	writeXMLNS(&b, ns)
	b.WriteString("><Error><Type>")
	b.WriteString(typ)
	b.WriteString("</Type>")
	writeXMLText(&b, "Code", e.Code)
	writeXMLText(&b, "Message", e.Message)
	b.WriteString("</Error>")
	writeXMLText(&b, "RequestId", reqID)
	b.WriteString("</ErrorResponse>")
	writeBody(w, "text/xml", e.Status, b.Bytes())
}

// queryDecoder decodes awsQuery parameters into a struct.
type queryDecoder struct{ params map[string][]string }

// Decode fills the struct v points to. Type mismatches are 400
// ValidationError in the awsQuery style.
func (d *queryDecoder) Decode(v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errInternal(fmt.Sprintf("awsproto: Decode needs a non-nil pointer, got %T", v))
	}
	if err := decodeQueryValue(buildQueryTree(d.params), "", rv.Elem()); err != nil {
		return err
	}
	if val, ok := v.(interface{ Validate() error }); ok {
		return val.Validate()
	}
	return nil
}

// qnode is one segment of the dotted parameter names.
type qnode struct {
	value    string
	hasValue bool
	kids     map[string]*qnode
}

func (n *qnode) child(name string) *qnode {
	if n.kids == nil {
		n.kids = map[string]*qnode{}
	}
	c := n.kids[name]
	if c == nil {
		c = &qnode{}
		n.kids[name] = c
	}
	return c
}

func buildQueryTree(params map[string][]string) *qnode {
	root := &qnode{}
	for k, vs := range params {
		if len(vs) == 0 || strings.Count(k, ".") >= maxQueryDepth {
			continue
		}
		n := root
		for _, seg := range strings.Split(k, ".") {
			n = n.child(seg)
		}
		n.value, n.hasValue = vs[0], true
	}
	return root
}

// decodeQueryValue decodes node n (named path) into v.
func decodeQueryValue(n *qnode, path string, v reflect.Value) *Error {
	if isScalar(v.Type()) {
		if !n.hasValue {
			return nil
		}
		if constraint, ok := setString(v, n.value); !ok {
			return queryValidation(n.value, path, constraint)
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return decodeQueryValue(n, path, v.Elem())
	case reflect.Struct:
		return decodeQueryStruct(n, path, v)
	case reflect.Slice:
		return decodeQueryList(n, path, v)
	case reflect.Map:
		return decodeQueryMap(n, path, v)
	}
	return nil // interfaces, channels, funcs: not wire members
}

func decodeQueryStruct(n *qnode, path string, v reflect.Value) *Error {
	for _, f := range fieldsOf(v.Type()) {
		if f.noBody {
			continue
		}
		name := f.name
		c := n.kids[name]
		if c == nil && f.jsonName != "" {
			// Some models keep lowerCamel member names (STS's
			// PolicyDescriptorType.arn); accept the json name as sent.
			name = f.jsonName
			c = n.kids[name]
		}
		if c == nil {
			continue
		}
		if err := decodeQueryValue(c, joinPath(path, name), v.FieldByIndex(f.index)); err != nil {
			return err
		}
	}
	return nil
}

func decodeQueryList(n *qnode, path string, v reflect.Value) *Error {
	container, sep := n, ""
	if m := n.kids["member"]; m != nil {
		container, sep = m, "member."
	}
	items := indexedKids(container)
	list := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, it := range items {
		if err := decodeQueryValue(it.node, joinPath(path, sep+it.index), list.Index(i)); err != nil {
			return err
		}
	}
	v.Set(list)
	return nil
}

func decodeQueryMap(n *qnode, path string, v reflect.Value) *Error {
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		return nil
	}
	container, sep := n, ""
	if e := n.kids["entry"]; e != nil {
		container, sep = e, "entry."
	}
	m := reflect.MakeMap(t)
	for _, it := range indexedKids(container) {
		k := it.node.kids["key"]
		if k == nil || !k.hasValue {
			continue
		}
		val := reflect.New(t.Elem()).Elem()
		if vn := it.node.kids["value"]; vn != nil {
			if err := decodeQueryValue(vn, joinPath(path, sep+it.index+".value"), val); err != nil {
				return err
			}
		}
		m.SetMapIndex(reflect.ValueOf(k.value).Convert(t.Key()), val)
	}
	v.Set(m)
	return nil
}

type indexed struct {
	n     int
	index string
	node  *qnode
}

// indexedKids returns the children of n named by positive integers, in
// numeric order.
func indexedKids(n *qnode) []indexed {
	var out []indexed
	for name, c := range n.kids {
		if i, err := strconv.Atoi(name); err == nil && i > 0 {
			out = append(out, indexed{i, name, c})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].n < out[b].n })
	return out
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// queryValidation is the awsQuery error for a value of the wrong type.
func queryValidation(value, path, constraint string) *Error {
	segs := strings.Split(path, ".")
	for i, s := range segs {
		segs[i] = lowerFirst(s)
	}
	return Errorf(http.StatusBadRequest, "ValidationError",
		"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s",
		truncate(value, 256), strings.Join(segs, "."), constraint)
}
