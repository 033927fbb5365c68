package awsproto

import (
	"encoding/base64"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// field is one wire member of a struct type.
type field struct {
	index     []int
	name      string // awsQuery / XML member name (UpperCamel)
	jsonName  string // "" when the field has no JSON name
	omitEmpty bool
	location  string // restJson1 binding: "uri", "querystring", "header" or ""
	locName   string
	noBody    bool // json:"-" on a location-bound field: not an awsQuery/XML member either
}

var fieldCache sync.Map // reflect.Type -> []field

// fieldsOf returns the wire members of struct type t. A field's member
// name is its `query` tag, else its `json` name with the first letter
// upper-cased, else the Go field name. Untagged embedded structs are
// flattened, as encoding/json does.
func fieldsOf(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	fs := collectFields(t, nil)
	fieldCache.Store(t, fs)
	return fs
}

func collectFields(t reflect.Type, prefix []int) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		index := append(append([]int(nil), prefix...), i)
		f, ok := describeField(sf)
		if !ok {
			continue
		}
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct && sf.Tag.Get("query") == "" && jsonTagName(sf) == "" {
			if len(prefix) < 8 {
				out = append(out, collectFields(sf.Type, index)...)
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		f.index = index
		out = append(out, f)
	}
	return out
}

// describeField reads a field's tags; ok is false for skipped fields.
func describeField(sf reflect.StructField) (field, bool) {
	jtag := sf.Tag.Get("json")
	jname, jopts, _ := strings.Cut(jtag, ",")
	f := field{
		jsonName:  jname,
		omitEmpty: strings.Contains(","+jopts+",", ",omitempty,") || strings.Contains(","+jopts+",", ",omitzero,"),
		location:  sf.Tag.Get("location"),
		locName:   sf.Tag.Get("locationName"),
	}
	if jtag == "-" {
		if f.location == "" {
			return field{}, false
		}
		f.noBody, f.jsonName = true, ""
	}
	switch q := sf.Tag.Get("query"); {
	case q == "-":
		return field{}, false
	case q != "":
		f.name = q
	case jname != "" && jname != "-":
		f.name = upperFirst(jname)
	default:
		f.name = sf.Name
	}
	if f.jsonName == "" && !f.noBody {
		f.jsonName = sf.Name
	}
	return f, true
}

func jsonTagName(sf reflect.StructField) string {
	name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
	return name
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]-'A'+'a') + s[1:]
}

var (
	timeType  = reflect.TypeFor[time.Time]()
	epochType = reflect.TypeFor[EpochTime]()
)

// setString parses s into the scalar v (string, bool, integer, float,
// timestamp or blob). On failure it returns the constraint s violates.
func setString(v reflect.Value, s string) (constraint string, ok bool) {
	switch v.Type() {
	case timeType:
		t, ok := parseTimestamp(s)
		if ok {
			v.Set(reflect.ValueOf(t))
		}
		return "Member must be a timestamp", ok
	case epochType:
		t, ok := parseTimestamp(s)
		if ok {
			v.Set(reflect.ValueOf(EpochTime{t}))
		}
		return "Member must be a timestamp", ok
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
		return "", true
	case reflect.Bool:
		switch strings.ToLower(s) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return "Member must be a boolean", false
		}
		return "", true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return "Member must be an integer within range", false
		}
		v.SetInt(n)
		return "", true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, v.Type().Bits())
		if err != nil {
			return "Member must be a non-negative integer within range", false
		}
		v.SetUint(n)
		return "", true
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil {
			return "Member must be a number", false
		}
		v.SetFloat(f)
		return "", true
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return "Member must be base64-encoded binary data", false
			}
			v.SetBytes(b)
			return "", true
		}
	}
	return "Member type " + v.Type().String() + " cannot be read from a string", false
}

// parseTimestamp accepts ISO 8601 (RFC 3339), HTTP dates and epoch seconds.
func parseTimestamp(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	if t, err := http.ParseTime(s); err == nil {
		return t.UTC(), true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > -1e11 && f < 1e11 {
		return time.UnixMilli(int64(f * 1000)).UTC(), true
	}
	return time.Time{}, false
}

// isScalar reports whether values of t are encoded as one string.
func isScalar(t reflect.Type) bool {
	if t == timeType || t == epochType {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.Uint8
	}
	return false
}
