package awsproto

import (
	"encoding/base64"
	"sort"
	"strconv"
	"strings"
)

// Pagination helpers for list operations. Page tokens (NextToken,
// NextMarker) are opaque to clients; each service keeps its own error
// for a bad token or page size, since AWS words them per service.

// PageSize returns *max, or def when max is nil; ok is false when *max is
// outside 1..limit.
func PageSize(max *int, def, limit int) (n int, ok bool) {
	if max == nil {
		return def, true
	}
	if *max < 1 || *max > limit {
		return 0, false
	}
	return *max, true
}

// Page returns at most n items from the position token names, and the
// token of the next page ("" after the last page). A token is the offset
// of the next item, so Page suits lists whose order is stable between
// calls; ok is false for a token that is not one Page issued for a list
// this long.
func Page[T any](items []T, token string, n int) (page []T, next string, ok bool) {
	start := 0
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		i, err2 := strconv.Atoi(string(raw))
		if err != nil || err2 != nil || i < 0 || i > len(items) {
			return nil, "", false
		}
		start = i
	}
	end := min(start+n, len(items))
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	return items[start:end], next, true
}

// PageAfter is Page over sorted keys with tokens that name the last key
// returned (after prefix, which versions the token), so a page stays
// right when keys before it are deleted or added meanwhile: the next page
// starts at the first key after that one, whether or not it still exists.
func PageAfter(keys []string, token, prefix string, n int) (page []string, next string, ok bool) {
	start := 0
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		last, found := strings.CutPrefix(string(raw), prefix)
		if err != nil || !found {
			return nil, "", false
		}
		start = sort.SearchStrings(keys, last)
		if start < len(keys) && keys[start] == last {
			start++
		}
	}
	end := min(start+n, len(keys))
	page = keys[start:end]
	if end < len(keys) && len(page) > 0 {
		next = base64.RawURLEncoding.EncodeToString([]byte(prefix + page[len(page)-1]))
	}
	return page, next, true
}
