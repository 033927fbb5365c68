package ecscp

import (
	"regexp"
	"testing"
	"time"
)

// TestOrderedTaskIDs: task IDs keep ECS's form, are unique, and those of a
// later millisecond sort after those of an earlier one (the store's key
// order).
func TestOrderedTaskIDs(t *testing.T) {
	form := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[string]bool{}
	base := time.UnixMilli(1_700_000_000_000)
	var prev string
	for i := range 2000 {
		id := newOrderedTaskID(base.Add(time.Duration(i/500) * time.Millisecond))
		if !form.MatchString(id) || seen[id] {
			t.Fatalf("id %q (malformed or repeated)", id)
		}
		seen[id] = true
		if i%500 == 0 {
			if prev != "" && id <= prev {
				t.Fatalf("id %s of a later millisecond sorts before %s", id, prev)
			}
			prev = id
		}
	}
}
