package awsproto

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"time"
)

const maxXMLDepth = 64

// encodeQueryResponse renders an awsQuery response document:
// <OpResponse xmlns=ns><OpResult>...</OpResult><ResponseMetadata>...</OpResponse>.
// Output members follow the awsQuery naming rule of fieldsOf; lists are
// <Name><member>...</member></Name>, maps <Name><entry><key/><value/></entry></Name>
// and timestamps ISO 8601 in UTC.
func encodeQueryResponse(ns, op, reqID string, out any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("<" + op + "Response")
	writeXMLNS(&b, ns)
	b.WriteString("><" + op + "Result>")
	if out != nil {
		v := reflect.ValueOf(out)
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			if v.IsNil() {
				break
			}
			v = v.Elem()
		}
		if v.Kind() == reflect.Struct && !isScalar(v.Type()) {
			if err := encodeXMLFields(&b, v, 0); err != nil {
				return nil, err
			}
		} else if v.Kind() != reflect.Pointer && v.Kind() != reflect.Interface {
			return nil, fmt.Errorf("awsproto: awsQuery output must be a struct, got %s", v.Type())
		}
	}
	b.WriteString("</" + op + "Result><ResponseMetadata>")
	writeXMLText(&b, "RequestId", reqID)
	b.WriteString("</ResponseMetadata></" + op + "Response>")
	return b.Bytes(), nil
}

func writeXMLNS(b *bytes.Buffer, ns string) {
	if ns == "" {
		return
	}
	b.WriteString(` xmlns="`)
	_ = xml.EscapeText(b, []byte(ns))
	b.WriteString(`"`)
}

func writeXMLText(b *bytes.Buffer, name, text string) {
	b.WriteString("<" + name + ">")
	_ = xml.EscapeText(b, []byte(text))
	b.WriteString("</" + name + ">")
}

func encodeXMLFields(b *bytes.Buffer, v reflect.Value, depth int) error {
	for _, f := range fieldsOf(v.Type()) {
		if f.noBody {
			continue
		}
		fv, ok := fieldByIndex(v, f.index)
		if !ok || (f.omitEmpty && fv.IsZero()) {
			continue
		}
		if err := encodeXMLValue(b, f.name, fv, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// fieldByIndex is v.FieldByIndex that reports nil embedded pointers.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

// encodeXMLValue writes <name>v</name>; nil pointers, slices, maps and
// interfaces and zero timestamps are left out.
func encodeXMLValue(b *bytes.Buffer, name string, v reflect.Value, depth int) error {
	if depth > maxXMLDepth {
		return fmt.Errorf("awsproto: output nested deeper than %d levels (a cycle?)", maxXMLDepth)
	}
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if text, ok, err := xmlScalar(v); ok || err != nil {
		if err == nil && text != nil {
			writeXMLText(b, name, *text)
		}
		return err
	}
	switch v.Kind() {
	case reflect.Struct:
		b.WriteString("<" + name + ">")
		if err := encodeXMLFields(b, v, depth); err != nil {
			return err
		}
		b.WriteString("</" + name + ">")
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		b.WriteString("<" + name + ">")
		for i := 0; i < v.Len(); i++ {
			if err := encodeXMLValue(b, "member", v.Index(i), depth+1); err != nil {
				return err
			}
		}
		b.WriteString("</" + name + ">")
	case reflect.Map:
		return encodeXMLMap(b, name, v, depth)
	}
	return nil
}

func encodeXMLMap(b *bytes.Buffer, name string, v reflect.Value, depth int) error {
	if v.IsNil() || v.Type().Key().Kind() != reflect.String {
		return nil
	}
	keys := v.MapKeys()
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	b.WriteString("<" + name + ">")
	for _, k := range keys {
		b.WriteString("<entry>")
		writeXMLText(b, "key", k.String())
		if err := encodeXMLValue(b, "value", v.MapIndex(k), depth+1); err != nil {
			return err
		}
		b.WriteString("</entry>")
	}
	b.WriteString("</" + name + ">")
	return nil
}

// xmlScalar renders a scalar; ok is false for structures, lists and maps.
// A nil text means "leave the element out" (a zero timestamp).
func xmlScalar(v reflect.Value) (text *string, ok bool, err error) {
	str := func(s string) (*string, bool, error) { return &s, true, nil }
	if v.CanInterface() {
		switch x := v.Interface().(type) {
		case time.Time:
			return timeText(x)
		case EpochTime:
			return timeText(x.Time)
		case encoding.TextMarshaler:
			if v.Kind() != reflect.Struct {
				t, err := x.MarshalText()
				if err != nil {
					return nil, true, err
				}
				return str(string(t))
			}
		}
	} else if v.Type() == timeType || v.Type() == epochType {
		return nil, true, nil
	}
	switch v.Kind() {
	case reflect.String:
		return str(v.String())
	case reflect.Bool:
		return str(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return str(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return str(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		return str(strconv.FormatFloat(v.Float(), 'f', -1, v.Type().Bits()))
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			if v.IsNil() {
				return nil, true, nil
			}
			return str(base64.StdEncoding.EncodeToString(v.Bytes()))
		}
	}
	return nil, false, nil
}

// timeText formats t as ISO 8601 in UTC with millisecond precision.
func timeText(t time.Time) (*string, bool, error) {
	if t.IsZero() {
		return nil, true, nil
	}
	s := t.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano)
	return &s, true, nil
}
