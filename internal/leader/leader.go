package leader

import "context"

// Elector elects one leader among the processes that share a store.
type Elector interface {
	// Campaign blocks until this process is the leader or ctx ends. The
	// returned context is done when leadership is lost (or ctx ends);
	// callers stop leader-only work then and may campaign again.
	Campaign(ctx context.Context) (context.Context, error)
	// Identity names this process in logs and in the election.
	Identity() string
}

// Always is the Elector of a process that shares its store with no other:
// it leads at once and for as long as ctx lasts.
type Always struct{ ID string }

var _ Elector = Always{}

// Campaign returns ctx itself: leadership lasts as long as ctx.
func (a Always) Campaign(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return ctx, nil
}

// Identity returns the configured ID, or "single".
func (a Always) Identity() string {
	if a.ID == "" {
		return "single"
	}
	return a.ID
}
