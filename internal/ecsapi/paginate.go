package ecsapi

import (
	"encoding/base64"
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/fault"
)

const tokenPrefix = "berth1:"

// paginate returns the page of items after token, at most max long (max 0
// means def), and the token of the next page ("" when none). Tokens are
// opaque: the base64 of the last item returned.
func paginate(items []string, token string, max *int, def, limit int) ([]string, string, error) {
	n := def
	if max != nil {
		if *max < 1 || *max > limit {
			return nil, "", fault.New(fault.InvalidParameter, "maxResults must be between 1 and %d.", limit)
		}
		n = *max
	}
	start := 0
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		last, ok := strings.CutPrefix(string(raw), tokenPrefix)
		if err != nil || !ok {
			return nil, "", fault.New(fault.InvalidParameter, "Invalid nextToken: the token is malformed or from another request.")
		}
		i := slices.Index(items, last)
		if i < 0 {
			// The item was removed since; resume at the first item after it.
			i, _ = slices.BinarySearch(items, last)
			i--
		}
		start = i + 1
	}
	if start > len(items) {
		start = len(items)
	}
	end := min(start+n, len(items))
	page := items[start:end]
	next := ""
	if end < len(items) && len(page) > 0 {
		next = base64.RawURLEncoding.EncodeToString([]byte(tokenPrefix + page[len(page)-1]))
	}
	return page, next, nil
}

// paginateOrdered is paginate over items in their own order (not sorted):
// a token names the last item returned, found again by position.
func paginateOrdered(items []string, token string, max *int, def, limit int) ([]string, string, error) {
	n := def
	if max != nil {
		if *max < 1 || *max > limit {
			return nil, "", fault.New(fault.InvalidParameter, "maxResults must be between 1 and %d.", limit)
		}
		n = *max
	}
	start := 0
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		last, ok := strings.CutPrefix(string(raw), tokenPrefix)
		if err != nil || !ok {
			return nil, "", fault.New(fault.InvalidParameter, "Invalid nextToken: the token is malformed or from another request.")
		}
		start = slices.Index(items, last) + 1 // an item gone since: from the start
	}
	end := min(start+n, len(items))
	page := items[start:end]
	next := ""
	if end < len(items) && len(page) > 0 {
		next = base64.RawURLEncoding.EncodeToString([]byte(tokenPrefix + page[len(page)-1]))
	}
	return page, next, nil
}
