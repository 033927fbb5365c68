package ecsapi

import (
	"encoding/base64"
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/fault"
)

const tokenPrefix = "berth1:"

// paginate returns the page of items after token, at most max long (max
// nil means def), and the token of the next page ("" when none). Tokens
// are opaque: the base64 of the last item returned. Items are in ECS's
// listing order; an item gone since the token was issued resumes at the
// first item after it in sorted order.
func paginate(items []string, token string, max *int, def, limit int) ([]string, string, error) {
	return paginateBy(items, token, max, def, limit, func(last string) int {
		if i := slices.Index(items, last); i >= 0 {
			return i + 1
		}
		i, _ := slices.BinarySearch(items, last)
		return i
	})
}

// paginateOrdered is paginate over items in their own order (not sorted):
// an item gone since the token was issued restarts from the first.
func paginateOrdered(items []string, token string, max *int, def, limit int) ([]string, string, error) {
	return paginateBy(items, token, max, def, limit, func(last string) int {
		return slices.Index(items, last) + 1
	})
}

// paginateBy pages items from the position resume finds for the last item
// of the previous page.
func paginateBy(items []string, token string, max *int, def, limit int, resume func(last string) int) ([]string, string, error) {
	n, ok := awsproto.PageSize(max, def, limit)
	if !ok {
		return nil, "", fault.New(fault.InvalidParameter, "maxResults must be between 1 and %d.", limit)
	}
	start := 0
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		last, ok := strings.CutPrefix(string(raw), tokenPrefix)
		if err != nil || !ok {
			return nil, "", fault.New(fault.InvalidParameter, "Invalid nextToken: the token is malformed or from another request.")
		}
		start = min(resume(last), len(items))
	}
	end := min(start+n, len(items))
	page := items[start:end]
	next := ""
	if end < len(items) && len(page) > 0 {
		next = base64.RawURLEncoding.EncodeToString([]byte(tokenPrefix + page[len(page)-1]))
	}
	return page, next, nil
}
