package server

import (
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
)

func TestParseTaskARNAndReservations(t *testing.T) {
	sc, cluster, id, ok := parseTaskARN("arn:aws:ecs:eu-west-1:123456789012:task/prod/0123abcd")
	if !ok || sc.Region != "eu-west-1" || sc.Account != "123456789012" || cluster != "prod" || id != "0123abcd" {
		t.Fatalf("%v %s %s %v", sc, cluster, id, ok)
	}
	for _, bad := range []string{"", "arn:aws:ecs:eu-west-1:1:service/prod/x", "arn:aws:ecs:eu-west-1:1:task/prod", "arn:aws:sqs:r:1:task/a/b"} {
		if _, _, _, ok := parseTaskARN(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
	// Task size wins; without it, the containers' reservations add up
	// (memory falls back to memoryReservation).
	if c, m := reservations(&ecs.Task{CPU: "256", Memory: "512", Containers: []ecs.Container{{CPU: "128"}}}); c != 256 || m != 512 {
		t.Fatalf("task size: %v %v", c, m)
	}
	c, m := reservations(&ecs.Task{Containers: []ecs.Container{{CPU: "128", Memory: "100"}, {CPU: "64", MemoryReservation: "50"}}})
	if c != 192 || m != 150 {
		t.Fatalf("container sums: %v %v", c, m)
	}
}
