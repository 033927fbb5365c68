package ecs

import (
	"slices"
	"testing"
)

func TestSplitCommand(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{in: "/bin/sh", want: []string{"/bin/sh"}},
		{in: "  ls   -l /tmp ", want: []string{"ls", "-l", "/tmp"}},
		{in: `/bin/sh -c 'echo $HOME; exit 3'`, want: []string{"/bin/sh", "-c", "echo $HOME; exit 3"}},
		{in: `echo "a \"b\" c" d\ e`, want: []string{"echo", `a "b" c`, "d e"}},
		{in: `echo ''`, want: []string{"echo", ""}},
		{in: "   ", bad: true},
		{in: `echo 'x`, bad: true},
		{in: `echo "x`, bad: true},
	} {
		got, err := SplitCommand(tc.in)
		if tc.bad != (err != nil) || !slices.Equal(got, tc.want) {
			t.Errorf("SplitCommand(%q) = %q, %v", tc.in, got, err)
		}
	}
}
