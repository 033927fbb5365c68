package awsproto

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Smithy RPC v2 CBOR (smithy-rpc-v2-cbor): POST
// /service/<ServiceShape>/operation/<Operation> with the header
// "smithy-protocol: rpc-v2-cbor" and a CBOR map as the body (RFC 8949).
// Member names are the model's (the same as awsJson's); timestamps are tag 1
// (epoch seconds), blobs byte strings. Errors are a CBOR map with __type and
// message and the same header.

const cborContentType = "application/cbor"

// isRPCv2 reports whether r speaks smithy-rpc-v2-cbor.
func isRPCv2(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Smithy-Protocol"), "rpc-v2-cbor") && strings.HasPrefix(r.URL.Path, "/service/")
}

// rpcv2Path splits /service/<name>/operation/<op>.
func rpcv2Path(p string) (service, op string) {
	rest, ok := strings.CutPrefix(p, "/service/")
	if !ok {
		return "", ""
	}
	service, rest, ok = strings.Cut(rest, "/operation/")
	if !ok || strings.Contains(rest, "/") {
		return service, ""
	}
	return service, rest
}

var cborDecMode = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		DefaultMapType:   reflect.TypeFor[map[string]any](),
		MaxNestedLevels:  64,
		MaxArrayElements: 1 << 20,
		MaxMapPairs:      1 << 20,
		TimeTag:          cbor.DecTagOptional,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

var cborEncMode = func() cbor.EncMode {
	m, err := cbor.EncOptions{Sort: cbor.SortNone}.EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// cborDecoder decodes a CBOR body: it turns the CBOR data model into JSON's
// (timestamps as epoch seconds, blobs as base64) and decodes that as an
// awsJson body, so that wire types and their validation are shared.
type cborDecoder struct{ body []byte }

func (d cborDecoder) Decode(v any) error {
	if len(d.body) == 0 {
		return validate(v)
	}
	var raw any
	if err := cborDecMode.Unmarshal(d.body, &raw); err != nil {
		return errSerialization("The request body is not valid CBOR: %v", err)
	}
	if _, ok := raw.(map[string]any); !ok {
		return errSerialization("The request body must be a CBOR map, found %T.", raw)
	}
	plain, err := cborToJSON(raw, 0)
	if err != nil {
		return err
	}
	b, jerr := json.Marshal(plain)
	if jerr != nil {
		return errSerialization("The request body holds a value JSON cannot represent: %v", jerr)
	}
	return decodeJSON(b, v)
}

// cborToJSON maps a decoded CBOR value onto JSON-encodable values.
func cborToJSON(v any, depth int) (any, *Error) {
	if depth > 64 {
		return nil, errSerialization("The request body is nested too deeply.")
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			c, err := cborToJSON(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				return nil, errSerialization("CBOR map keys must be text strings, found %T.", k)
			}
			c, err := cborToJSON(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[ks] = c
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := cborToJSON(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case time.Time:
		return json.Number(fmt.Sprintf("%.3f", math.Round(float64(x.UnixNano())/1e6)/1000)), nil
	case cbor.Tag:
		if x.Number == 1 {
			return cborToJSON(x.Content, depth+1)
		}
		return nil, errSerialization("Unsupported CBOR tag %d.", x.Number)
	case []byte:
		return base64.StdEncoding.EncodeToString(x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, errSerialization("Non-finite numbers are not accepted.")
		}
		return x, nil
	case float32:
		return cborToJSON(float64(x), depth)
	}
	return v, nil
}

func (rt *Router) serveCBOR(w http.ResponseWriter, ctx context.Context, svc *Service, c *Call, body []byte) {
	out, err := rt.invoke(ctx, svc, c, cborDecoder{body})
	if err != nil {
		writeCBORError(w, asError(err, svc), svc)
		return
	}
	b, eerr := encodeCBOR(out)
	if eerr != nil {
		rt.log.Error("encoding response", "service", svc.SigningName, "operation", c.Operation, "err", eerr)
		writeCBORError(w, errInternal("could not encode response: "+eerr.Error()), svc)
		return
	}
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	writeBody(w, cborContentType, http.StatusOK, b)
}

func writeCBORError(w http.ResponseWriter, e *Error, svc *Service) {
	typ := errorType(w, e, svc)
	b, _ := cborEncMode.Marshal(map[string]string{"__type": typ, "message": e.Message})
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	writeBody(w, cborContentType, e.Status, b)
}

// encodeCBOR renders an output struct as a CBOR map keyed by member names
// (the fields' json names), leaving out nil members and zero timestamps.
func encodeCBOR(out any) ([]byte, error) {
	if out == nil {
		return cborEncMode.Marshal(map[string]any{})
	}
	v, err := cborValue(reflect.ValueOf(out), 0)
	if err != nil {
		return nil, err
	}
	if v == nil {
		v = map[string]any{}
	}
	return cborEncMode.Marshal(v)
}

// cborValue converts v to the values cbor.Marshal encodes as Smithy
// expects; nil means "leave out".
func cborValue(v reflect.Value, depth int) (any, error) {
	if depth > maxXMLDepth {
		return nil, fmt.Errorf("awsproto: output nested deeper than %d levels", maxXMLDepth)
	}
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil, nil
		}
		v = v.Elem()
	}
	switch v.Type() {
	case timeType:
		return cborTime(v.Interface().(time.Time)), nil
	case epochType:
		return cborTime(v.Interface().(EpochTime).Time), nil
	}
	switch v.Kind() {
	case reflect.Struct:
		m := map[string]any{}
		for _, f := range fieldsOf(v.Type()) {
			if f.noBody || f.jsonName == "" || f.jsonName == "-" {
				continue
			}
			fv, ok := fieldByIndex(v, f.index)
			if !ok || (f.omitEmpty && fv.IsZero()) {
				continue
			}
			c, err := cborValue(fv, depth+1)
			if err != nil {
				return nil, err
			}
			if c != nil {
				m[f.jsonName] = c
			}
		}
		return m, nil
	case reflect.Slice:
		if v.IsNil() {
			return nil, nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Bytes(), nil
		}
		fallthrough
	case reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			c, err := cborValue(v.Index(i), depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case reflect.Map:
		if v.IsNil() || v.Type().Key().Kind() != reflect.String {
			return nil, nil
		}
		m := make(map[string]any, v.Len())
		it := v.MapRange()
		for it.Next() {
			c, err := cborValue(it.Value(), depth+1)
			if err != nil {
				return nil, err
			}
			m[it.Key().String()] = c
		}
		return m, nil
	case reflect.String:
		return v.String(), nil
	case reflect.Bool:
		return v.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint(), nil
	case reflect.Float32, reflect.Float64:
		return v.Float(), nil
	}
	return nil, nil
}

func cborTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return cbor.Tag{Number: 1, Content: float64(t.UnixMilli()) / 1000}
}
