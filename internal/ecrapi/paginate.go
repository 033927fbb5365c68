package ecrapi

import (
	"encoding/base64"
	"sort"
	"strings"
)

// pageTokenPrefix marks berth's opaque page tokens (and versions them).
const pageTokenPrefix = "ecr1\x00"

// page returns the keys (sorted ascending) after token, at most n of them,
// and the token of the next page ("" at the end). A token holds the last
// key returned, so that a page is stable when items before it are deleted.
func page(keys []string, token string, n int) ([]string, string, error) {
	start := 0
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		last, ok := strings.CutPrefix(string(raw), pageTokenPrefix)
		if err != nil || !ok {
			return nil, "", errInvalidParam("Invalid parameter at 'nextToken' failed to satisfy constraint: 'the token is malformed or was not issued by this operation'")
		}
		start = sort.SearchStrings(keys, last)
		if start < len(keys) && keys[start] == last {
			start++
		}
	}
	end := min(start+n, len(keys))
	out := keys[start:end]
	next := ""
	if end < len(keys) && len(out) > 0 {
		next = base64.RawURLEncoding.EncodeToString([]byte(pageTokenPrefix + out[len(out)-1]))
	}
	return out, next, nil
}

// pageSize validates maxResults (nil: def) against ECR's 1..limit range.
func pageSize(max *int, def, limit int) (int, error) {
	if max == nil {
		return def, nil
	}
	if *max < 1 || *max > limit {
		return 0, errInvalidParam("Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value between 1 and %d'", limit)
	}
	return *max, nil
}
