package ecrapi

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
)

const maxTags = 50

func errInvalidTag(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, format, args...).WithCode("InvalidTagParameterException")
}

// validateTags checks ECR tags and returns them in the stored form.
func validateTags(in []wireTag) ([]storedTag, error) {
	if len(in) > maxTags {
		return nil, fault.New(fault.LimitExceeded, "A resource can have at most %d tags (got %d).", maxTags, len(in)).WithCode("TooManyTagsException")
	}
	seen := map[string]bool{}
	out := make([]storedTag, 0, len(in))
	for _, t := range in {
		if len(t.Key) < 1 || len(t.Key) > 128 {
			return nil, errInvalidTag("Tag keys must be between 1 and 128 characters long (got %q).", t.Key)
		}
		if len(t.Value) > 256 {
			return nil, errInvalidTag("Tag values must be at most 256 characters long (key %q).", t.Key)
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return nil, errInvalidTag("Tag keys with the prefix 'aws:' are reserved (got %q).", t.Key)
		}
		if seen[t.Key] {
			return nil, errInvalidTag("Duplicate tag key %q.", t.Key)
		}
		seen[t.Key] = true
		out = append(out, storedTag(t))
	}
	return out, nil
}

func encodeTags(tags []storedTag) []byte {
	b, _ := json.Marshal(tags)
	return b
}

// readTags returns a resource's tags and the key's revision (0: none).
func (a *API) readTags(ctx context.Context, arn string) ([]storedTag, int64, error) {
	kv, err := a.st.Get(ctx, tagKey(arn))
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, storeErr(err, "read tags")
	}
	var tags []storedTag
	if err := json.Unmarshal(kv.Value, &tags); err != nil {
		return nil, 0, fault.Wrap(err, fault.Internal, "decode tags")
	}
	return tags, kv.ModRevision, nil
}

// taggedRepo resolves a repository ARN of the caller's (or, by policy,
// another) account.
func (a *API) taggedRepo(ctx context.Context, c *awsproto.Call, arn, action string) (*repoRecord, error) {
	// arn:aws:ecr:REGION:ACCOUNT:repository/NAME
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "ecr" || !strings.HasPrefix(parts[5], "repository/") {
		return nil, errInvalidParam("Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN %s: expected arn:aws:ecr:<region>:<account>:repository/<name>'", arn)
	}
	region, account, name := parts[3], parts[4], strings.TrimPrefix(parts[5], "repository/")
	if region != a.callScope(c).Region {
		return nil, errInvalidParam("Invalid parameter at 'resourceArn' failed to satisfy constraint: 'the ARN %s is not in the region of the request (%s)'", arn, a.callScope(c).Region)
	}
	_, rec, err := a.repoFor(ctx, c, account, name, action)
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// updateTags changes a resource's tags with fn under compare-and-swap.
func (a *API) updateTags(ctx context.Context, arn string, fn func([]storedTag) ([]storedTag, error)) error {
	for range maxTxnRetries {
		cur, rev, err := a.readTags(ctx, arn)
		if err != nil {
			return err
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		op := store.Op{Key: tagKey(arn), Value: encodeTags(next)}
		if len(next) == 0 {
			op = store.Op{Key: tagKey(arn), Delete: true}
		}
		_, err = a.st.Txn(ctx, []store.Compare{{Key: tagKey(arn), ModRevision: rev}}, []store.Op{op})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		return storeErr(err, "update tags")
	}
	return fault.New(fault.Unavailable, "too much contention on the tags of %s, retry", arn)
}

type tagResourceIn struct {
	ResourceArn string    `json:"resourceArn"`
	Tags        []wireTag `json:"tags"`
}

type untagResourceIn struct {
	ResourceArn string   `json:"resourceArn"`
	TagKeys     []string `json:"tagKeys"`
}

type resourceIn struct {
	ResourceArn string `json:"resourceArn"`
}

type tagsOut struct {
	Tags []wireTag `json:"tags"`
}

func (a *API) tagResource(ctx context.Context, c *awsproto.Call, in *tagResourceIn) (any, error) {
	rec, err := a.taggedRepo(ctx, c, in.ResourceArn, "ecr:TagResource")
	if err != nil {
		return nil, err
	}
	add, err := validateTags(in.Tags)
	if err != nil {
		return nil, err
	}
	if len(add) == 0 {
		return nil, errInvalidTag("tags must not be empty.")
	}
	err = a.updateTags(ctx, rec.ARN, func(cur []storedTag) ([]storedTag, error) {
		next := append([]storedTag(nil), cur...)
		for _, t := range add {
			replaced := false
			for i := range next {
				if next[i].Key == t.Key {
					next[i].Value, replaced = t.Value, true
				}
			}
			if !replaced {
				next = append(next, t)
			}
		}
		if len(next) > maxTags {
			return nil, fault.New(fault.LimitExceeded, "A resource can have at most %d tags; this request would leave %d.", maxTags, len(next)).WithCode("TooManyTagsException")
		}
		return next, nil
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (a *API) untagResource(ctx context.Context, c *awsproto.Call, in *untagResourceIn) (any, error) {
	rec, err := a.taggedRepo(ctx, c, in.ResourceArn, "ecr:UntagResource")
	if err != nil {
		return nil, err
	}
	if len(in.TagKeys) == 0 {
		return nil, errInvalidTag("tagKeys must not be empty.")
	}
	drop := map[string]bool{}
	for _, k := range in.TagKeys {
		drop[k] = true
	}
	err = a.updateTags(ctx, rec.ARN, func(cur []storedTag) ([]storedTag, error) {
		var next []storedTag
		for _, t := range cur {
			if !drop[t.Key] {
				next = append(next, t)
			}
		}
		return next, nil
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (a *API) listTagsForResource(ctx context.Context, c *awsproto.Call, in *resourceIn) (any, error) {
	rec, err := a.taggedRepo(ctx, c, in.ResourceArn, "ecr:ListTagsForResource")
	if err != nil {
		return nil, err
	}
	tags, _, err := a.readTags(ctx, rec.ARN)
	if err != nil {
		return nil, err
	}
	out := tagsOut{Tags: []wireTag{}}
	for _, t := range tags {
		out.Tags = append(out.Tags, wireTag(t))
	}
	return out, nil
}
