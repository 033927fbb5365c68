package awsproto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// jsonDecoder decodes an awsJson / restJson1 body.
type jsonDecoder struct{ body []byte }

func (d jsonDecoder) Decode(v any) error { return decodeJSON(d.body, v) }

// decodeJSON decodes body into v, mapping failures to SerializationException
// as AWS does. An empty body is an empty object. Unknown members are ignored
// (AWS services accept members newer than the server knows).
func decodeJSON(body []byte, v any) error {
	if err := unmarshalJSON(body, v); err != nil {
		return err
	}
	return validate(v)
}

// validate runs the input's Validate method, if it has one.
func validate(v any) error {
	if v, ok := v.(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return nil
}

// unmarshalJSON decodes body into v without validating it.
func unmarshalJSON(body []byte, v any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil
	}
	if bytes.Equal(trimmed, []byte("null")) {
		// A null input is no input: it must not decode as an empty object
		// (CreateCluster would create the cluster "default").
		return errSerialization("The request body must be a JSON object, found JSON null.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				field = "(root)"
			}
			return errSerialization("Unexpected value type for member %s: found JSON %s, expected %s.", field, te.Value, jsonKind(te.Type.Kind().String()))
		case errors.As(err, &se):
			return errSerialization("The request body is not valid JSON: %v (at offset %d).", se, se.Offset)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return errSerialization("The request body is not valid JSON: unexpected end of input.")
		}
		var ve *ValidationError
		if errors.As(err, &ve) {
			return errSerialization("%s", ve.Msg)
		}
		return errSerialization("Could not decode the request body: %v", err)
	}
	if dec.More() {
		return errSerialization("The request body contains data after the JSON document.")
	}
	var rest json.RawMessage
	if err := dec.Decode(&rest); err != io.EOF {
		return errSerialization("The request body contains data after the JSON document.")
	}
	return nil
}

// ValidationError is returned by custom UnmarshalJSON methods of wire types
// to produce a SerializationException with a precise message.
type ValidationError struct{ Msg string }

func (e *ValidationError) Error() string { return e.Msg }

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "int", "int32", "int64", "float64", "float32":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "list"
	case "map", "struct", "ptr":
		return "structure"
	}
	return goKind
}

func jsonContentType(p Protocol) string {
	if p == JSON10 {
		return "application/x-amz-json-1.0"
	}
	return "application/x-amz-json-1.1"
}

func (rt *Router) serveJSON(w http.ResponseWriter, ctx context.Context, svc *Service, p Protocol, c *Call, body []byte) {
	out, err := rt.invoke(ctx, svc, c, jsonDecoder{body})
	if err != nil {
		e := asError(err, svc)
		key := "message"
		if svc.ErrorMessageKey != nil {
			key = svc.ErrorMessageKey(e.Code)
		}
		writeJSONErrorKey(w, p, e, key, svc)
		return
	}
	if st, ok := out.(Streamer); ok {
		st.ServeStream(ctx, w)
		return
	}
	writeJSON(w, jsonContentType(p), http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, contentType string, status int, out any) {
	var b []byte
	if out == nil {
		b = []byte("{}")
	} else {
		var err error
		b, err = json.Marshal(out)
		if err != nil {
			writeJSONError(w, JSON11, errInternal("could not encode response: "+err.Error()), nil)
			return
		}
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeJSONError(w http.ResponseWriter, p Protocol, e *Error, svc *Service) {
	writeJSONErrorKey(w, p, e, "message", svc)
}

// writeJSONErrorKey writes an awsJson error whose message member is named
// key (services differ: "message", "Message"); an empty key leaves the
// message out, for error shapes that have none.
func writeJSONErrorKey(w http.ResponseWriter, p Protocol, e *Error, key string, svc *Service) {
	typ := errorType(w, e, svc)
	body := map[string]string{"__type": typ}
	if key != "" {
		body[key] = e.Message
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", jsonContentType(p))
	w.Header().Set("X-Amzn-Errortype", typ)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}

// EpochTime is a timestamp encoded as JSON epoch seconds (with a fraction),
// as AWS JSON protocols send them.
type EpochTime struct{ time.Time }

// Epoch returns t as an *EpochTime, or nil for the zero time (so that
// omitempty drops it).
func Epoch(t time.Time) *EpochTime {
	if t.IsZero() {
		return nil
	}
	return &EpochTime{t}
}

func (t EpochTime) MarshalJSON() ([]byte, error) {
	ms := t.UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

func (t *EpochTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if pt, err := time.Parse(time.RFC3339Nano, s); err == nil {
			t.Time = pt
			return nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return &ValidationError{Msg: fmt.Sprintf("Invalid timestamp %q.", s)}
		}
		t.Time = time.UnixMilli(int64(f * 1000))
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return &ValidationError{Msg: fmt.Sprintf("Invalid timestamp %s.", b)}
	}
	t.Time = time.UnixMilli(int64(f * 1000)).UTC()
	return nil
}

// errorType is the __type of e in a JSON or CBOR error body. For an
// awsQueryCompatible service it is the error's shape name, and the awsQuery
// code goes in the x-amzn-query-error header.
func errorType(w http.ResponseWriter, e *Error, svc *Service) string {
	if svc == nil || svc.ErrorShapes == nil {
		return e.Code
	}
	fault := "Sender"
	if !e.sender() {
		fault = "Receiver"
	}
	w.Header().Set("x-amzn-query-error", e.Code+";"+fault)
	if shape, ok := svc.ErrorShapes[e.Code]; ok {
		return shape
	}
	return e.Code
}
