package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/berth-dev/berth/internal/runner"
	"github.com/berth-dev/berth/internal/store"
)

// ledgerPrefix holds the runner ledgers of the managed capacity when
// servers share a store (docs/state-store.md):
//
//	/meta/runner-ledger/<scope>/<task hash>   storedLedger (JSON)
//
// The managed agents run on whichever server leads, so what one created
// must be known to the next: a container removed while no server led is
// then reported removed, not created again (runner.Ledger).
const ledgerPrefix = "/meta/runner-ledger/"

// ledgerTimeout bounds one ledger write or read.
const ledgerTimeout = 10 * time.Second

// storeLedger is a runner.Ledger in the shared store, one scope's.
type storeLedger struct {
	st    store.Store
	scope string
}

// storeLedgers opens the store ledgers of st (runner.Config.Ledger).
func storeLedgers(st store.Store) func(scope string) runner.Ledger {
	return func(scope string) runner.Ledger { return &storeLedger{st: st, scope: scope} }
}

// storedLedger is one task's record.
type storedLedger struct {
	Task       string            `json:"task"`
	Containers []storedContainer `json:"containers"`
}

type storedContainer struct {
	Name      string `json:"name"`
	ID        string `json:"id"`
	Essential bool   `json:"essential,omitempty"`
	Started   bool   `json:"started,omitempty"`
}

func (l *storeLedger) key(arn string) string {
	sum := sha256.Sum256([]byte(arn))
	return ledgerPrefix + l.scope + "/" + hex.EncodeToString(sum[:16])
}

// update applies fn to task arn's record with a compare-and-swap.
func (l *storeLedger) update(arn string, fn func(*storedLedger)) error {
	ctx, cancel := context.WithTimeout(context.Background(), ledgerTimeout)
	defer cancel()
	key := l.key(arn)
	for {
		rec := storedLedger{Task: arn}
		var rev int64
		kv, err := l.st.Get(ctx, key)
		switch {
		case err == nil:
			if err := json.Unmarshal(kv.Value, &rec); err != nil {
				return fmt.Errorf("runner ledger %s: %w", key, err)
			}
			rev = kv.ModRevision
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("runner ledger: %w", err)
		}
		fn(&rec)
		b, _ := json.Marshal(rec)
		_, err = l.st.Txn(ctx, []store.Compare{{Key: key, ModRevision: rev}}, []store.Op{{Key: key, Value: b}})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("runner ledger: %w", err)
		}
		return nil
	}
}

func (l *storeLedger) Created(arn, name, id string, essential bool) error {
	return l.update(arn, func(r *storedLedger) {
		if !slices.ContainsFunc(r.Containers, func(c storedContainer) bool { return c.Name == name && c.ID == id }) {
			r.Containers = append(r.Containers, storedContainer{Name: name, ID: id, Essential: essential})
		}
	})
}

func (l *storeLedger) Started(arn, name, id string) error {
	return l.update(arn, func(r *storedLedger) {
		for i := range r.Containers {
			if r.Containers[i].Name == name && r.Containers[i].ID == id {
				r.Containers[i].Started = true
			}
		}
	})
}

func (l *storeLedger) Forget(arn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), ledgerTimeout)
	defer cancel()
	if _, err := l.st.Txn(ctx, nil, []store.Op{{Key: l.key(arn), Delete: true}}); err != nil {
		return fmt.Errorf("runner ledger: %w", err)
	}
	return nil
}

func (l *storeLedger) Load() (map[string][]runner.LedgerRecord, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ledgerTimeout)
	defer cancel()
	kvs, _, err := l.st.List(ctx, ledgerPrefix+l.scope+"/", store.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("runner ledger: %w", err)
	}
	out := map[string][]runner.LedgerRecord{}
	for _, kv := range kvs {
		var rec storedLedger
		if err := json.Unmarshal(kv.Value, &rec); err != nil {
			return nil, fmt.Errorf("runner ledger %s: %w", kv.Key, err)
		}
		for _, c := range rec.Containers {
			out[rec.Task] = append(out[rec.Task], runner.LedgerRecord{Name: c.Name, ID: c.ID, Essential: c.Essential, Started: c.Started})
		}
	}
	return out, nil
}
