package ecsstore

import (
	"bytes"
	"unicode/utf8"
)

// The state cache decodes the header of every task record at every
// change: with encoding/json that was some 16% of a placement run's CPU
// (10k tasks on 1k instances), most of it spent walking the containers
// and attachments the header does not read. scanTaskHeader reads the
// header from the same JSON in one pass that only finds the ends of the
// values it skips. It takes the records berth writes (plain strings in
// the header fields) and declines anything else — an escape or a byte
// outside printable UTF-8 in a key or a header value, a header value that
// is not a string, a key that differs from a header field's only in case
// (encoding/json would match it), malformed nesting, trailing bytes — so
// that DecodeTaskHeader falls back to encoding/json, whose answer is the
// definition. It does not validate what it skips (numbers, literals, the
// pairing of brackets): a record whose header scans may still fail the
// full decode, as before (TaskEntry.Task treats it as absent).

// taskHeaderKeys are the JSON names of TaskHeader's fields.
var taskHeaderKeys = [...]string{
	"taskArn", "containerInstanceArn", "launchType", "lastStatus", "desiredStatus",
	"stoppedAt", "stoppedReason", "group", "startedBy",
}

// headerString returns the header field a JSON name sets, or nil.
func (h *TaskHeader) headerString(key []byte) *string {
	switch string(key) {
	case "taskArn":
		return &h.ARN
	case "containerInstanceArn":
		return &h.ContainerInstanceARN
	case "launchType":
		return &h.LaunchType
	case "lastStatus":
		return &h.LastStatus
	case "desiredStatus":
		return &h.DesiredStatus
	case "stoppedReason":
		return &h.StoppedReason
	case "group":
		return &h.Group
	case "startedBy":
		return &h.StartedBy
	}
	return nil
}

// foldsToHeaderKey reports whether key matches a header field's name
// only case-insensitively, as encoding/json matches names.
func foldsToHeaderKey(key []byte) bool {
	for _, k := range taskHeaderKeys {
		if len(k) == len(key) && bytes.EqualFold(key, []byte(k)) {
			return true
		}
	}
	return false
}

// scanTaskHeader fills h from a task record, or reports false (h then
// holds no meaning) for DecodeTaskHeader to fall back to encoding/json.
func scanTaskHeader(b []byte, h *TaskHeader) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		key, j, ok := plainString(b, i)
		if !ok {
			return false
		}
		i = skipSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		switch dst := h.headerString(key); {
		case dst != nil:
			val, j, ok := plainString(b, i)
			if !ok {
				return false
			}
			*dst, i = string(val), j
		case string(key) == "stoppedAt":
			_, j, ok := plainString(b, i)
			if !ok || h.StoppedAt.UnmarshalJSON(b[i:j]) != nil {
				return false
			}
			i = j
		case foldsToHeaderKey(key):
			return false
		default:
			if i, ok = skipValue(b, i); !ok {
				return false
			}
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return false
		}
		if b[i] == '}' {
			return skipSpace(b, i+1) == len(b)
		}
		if b[i] != ',' {
			return false
		}
		i = skipSpace(b, i+1)
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// plainString reads the string at b[i] if it has no escape and no
// control character and is valid UTF-8: its content and the index past
// its closing quote.
func plainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	ascii := true
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			s := b[i+1 : j]
			if !ascii && !utf8.Valid(s) {
				return nil, 0, false
			}
			return s, j + 1, true
		case c == '\\' || c < 0x20:
			return nil, 0, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, 0, false
}

// skipValue returns the index past the JSON value at b[i], finding only
// where it ends.
func skipValue(b []byte, i int) (int, bool) {
	depth := 0
	for i < len(b) {
		switch c := b[i]; {
		case c == '"':
			i++
			for i < len(b) && b[i] != '"' {
				if b[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(b) {
				return 0, false
			}
			i++
		case c == '{' || c == '[':
			depth++
			i++
		case c == '}' || c == ']':
			if depth == 0 {
				return 0, false
			}
			depth--
			i++
		case depth > 0 && (c == ',' || c == ':' || isSpace(c)):
			i++
		case c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			for i < len(b) && (b[i] == '-' || b[i] == '+' || b[i] == '.' || b[i] >= '0' && b[i] <= '9' || b[i] >= 'a' && b[i] <= 'z' || b[i] >= 'A' && b[i] <= 'Z') {
				i++
			}
		default:
			return 0, false
		}
		if depth == 0 {
			return i, true
		}
	}
	return 0, false
}
