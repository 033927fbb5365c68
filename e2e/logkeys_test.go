package e2e

import "testing"

func TestRepeatedLogKeys(t *testing.T) {
	log := `time=2026-12-07T01:00:00Z level=INFO msg="a b=c" subsystem=runtime subsystem=managed-agent cluster=x
time=2026-12-07T01:00:00Z level=INFO msg="ok line" subsystem=acs err="x=\"y\" z" cluster=a
time=2026-12-07T01:00:00Z level=WARN msg=m cluster=a component=agent cluster=a
  a continuation line with no keys
`
	bad := repeatedLogKeys(log)
	if len(bad) != 2 {
		t.Fatalf("repeated keys found on %d lines, want 2: %q", len(bad), bad)
	}
}
