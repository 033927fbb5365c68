package ecrapi

import "github.com/berth-dev/berth/internal/awsproto"

// pageTokenPrefix marks berth's opaque page tokens (and versions them).
const pageTokenPrefix = "ecr1\x00"

// page returns the keys (sorted ascending) after token, at most n of them,
// and the token of the next page ("" at the end). A token holds the last
// key returned, so that a page is stable when items before it are deleted.
func page(keys []string, token string, n int) ([]string, string, error) {
	out, next, ok := awsproto.PageAfter(keys, token, pageTokenPrefix, n)
	if !ok {
		return nil, "", errInvalidParam("Invalid parameter at 'nextToken' failed to satisfy constraint: 'the token is malformed or was not issued by this operation'")
	}
	return out, next, nil
}

// pageSize validates maxResults (nil: def) against ECR's 1..limit range.
func pageSize(max *int, def, limit int) (int, error) {
	n, ok := awsproto.PageSize(max, def, limit)
	if !ok {
		return 0, errInvalidParam("Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value between 1 and %d'", limit)
	}
	return n, nil
}
