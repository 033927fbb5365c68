package server

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/berth-dev/berth/internal/runner"
	"github.com/berth-dev/berth/internal/store/bolt"
)

// TestStoreLedger: what one server's runner recorded is what another's
// loads (same scope, one store); scopes do not mix; a forgotten task is
// gone.
func TestStoreLedger(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	open := storeLedgers(st)
	scope := runner.LedgerScope("owner", "c1", "arn:inst")
	a, b, other := open(scope), open(scope), open(runner.LedgerScope("owner", "c2", "arn:inst"))
	for _, step := range []error{
		a.Created("t1", "web", "id1", true),
		a.Created("t1", "web", "id1", true), // once
		a.Created("t1", "side", "id2", false),
		a.Started("t1", "web", "id1"),
		a.Created("t2", "web", "id3", true),
		other.Created("t9", "web", "id9", true),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	want := map[string][]runner.LedgerRecord{
		"t1": {{Name: "web", ID: "id1", Essential: true, Started: true}, {Name: "side", ID: "id2"}},
		"t2": {{Name: "web", ID: "id3", Essential: true}},
	}
	if got, err := b.Load(); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Load = %+v, %v; want %+v", got, err, want)
	}
	if err := b.Forget("t1"); err != nil {
		t.Fatal(err)
	}
	delete(want, "t1")
	if got, err := a.Load(); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after Forget: %+v, %v; want %+v", got, err, want)
	}
}
