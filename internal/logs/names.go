package logs

import (
	"fmt"
	"regexp"
	"slices"
	"time"
)

// groupNameRE is AWS's log group name pattern.
var groupNameRE = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]+$`)

// ValidateGroupName checks a log group name (1-512 of a-zA-Z0-9_-/.#).
func ValidateGroupName(name string) error {
	if name == "" {
		return Invalidf("1 validation error detected: Value null at 'logGroupName' failed to satisfy constraint: Member must not be null")
	}
	if len(name) > 512 || !groupNameRE.MatchString(name) {
		return Invalidf("1 validation error detected: Value '%s' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+ and have length less than or equal to 512", name)
	}
	return nil
}

// ValidateStreamName checks a log stream name (1-512 characters, no ':' or '*').
func ValidateStreamName(name string) error {
	if name == "" {
		return Invalidf("1 validation error detected: Value null at 'logStreamName' failed to satisfy constraint: Member must not be null")
	}
	if len(name) > 512 {
		return Invalidf("1 validation error detected: Value at 'logStreamName' failed to satisfy constraint: Member must have length less than or equal to 512")
	}
	for _, r := range name {
		if r == ':' || r == '*' {
			return Invalidf("1 validation error detected: Value '%s' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*", name)
		}
	}
	return nil
}

// retentionDays are the values PutRetentionPolicy accepts.
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// ValidateRetention checks a retentionInDays value.
func ValidateRetention(days int) error {
	if !slices.Contains(retentionDays, days) {
		return Invalidf("1 validation error detected: Value '%d' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: %v", days, retentionDays)
	}
	return nil
}

// Cutoff is the oldest timestamp (ms) a group with this retention keeps
// at now; 0 keeps everything.
func Cutoff(retentionDays int, now time.Time) int64 {
	if retentionDays <= 0 {
		return 0
	}
	return now.Add(-time.Duration(retentionDays) * 24 * time.Hour).UnixMilli()
}

// GroupARN is a log group's ARN (with the trailing ":*" AWS puts on "arn").
func GroupARN(region, account, name string) string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:*", region, account, name)
}

// StreamARN is a log stream's ARN.
func StreamARN(region, account, group, stream string) string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:log-stream:%s", region, account, group, stream)
}

// ValidateTags checks tags as TagLogGroup/TagResource do.
func ValidateTags(tags map[string]string) error {
	if len(tags) > 50 {
		return Invalidf("A log group can have at most 50 tags.")
	}
	for k, v := range tags {
		if k == "" || len(k) > 128 {
			return Invalidf("Tag keys must be 1 to 128 characters: '%s'", k)
		}
		if len(v) > 256 {
			return Invalidf("Tag values must be at most 256 characters (key '%s')", k)
		}
	}
	return nil
}

// Scope is the account and region a log group lives in.
type Scope struct{ Account, Region string }
