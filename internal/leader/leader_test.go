package leader

import (
	"context"
	"testing"
)

func TestAlwaysLeadsUntilContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	lead, err := Always{}.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if lead.Err() != nil {
		t.Fatal("leadership ended before the context")
	}
	cancel()
	<-lead.Done()
	if _, err := (Always{}).Campaign(ctx); err == nil {
		t.Fatal("campaign on an ended context succeeded")
	}
}
