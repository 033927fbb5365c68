package awsproto

import "testing"

func TestAccountOr(t *testing.T) {
	if got := (&Call{Account: "111122223333"}).AccountOr("000000000000"); got != "111122223333" {
		t.Errorf("named account: %q", got)
	}
	if got := (&Call{}).AccountOr("000000000000"); got != "000000000000" {
		t.Errorf("no account: %q", got)
	}
}
