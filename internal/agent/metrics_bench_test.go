package agent

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/fake"
)

// BenchmarkSampler100Containers measures one metrics collection over 100
// running containers of the fake driver (the agent does one every
// MetricsInterval, 20 s by default), next to its peer, the 100 driver
// Stats calls alone. CPU share of one core at the default interval is
// ns/op / 20e9.
func BenchmarkSampler100Containers(b *testing.B) {
	ctx := context.Background()
	d := fake.New(fake.Options{Logger: slog.New(slog.DiscardHandler), Images: []string{"img"}})
	var tasks []taskSample
	var ids []string
	for i := 0; i < 100; i++ {
		id, err := d.CreateContainer(ctx, driver.ContainerSpec{Name: fmt.Sprintf("c%d", i), Image: "img"})
		if err != nil {
			b.Fatal(err)
		}
		if err := d.StartContainer(ctx, id); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
		tasks = append(tasks, taskSample{arn: fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:task/c/%d", i), containers: []containerSample{{id: id, name: "app"}}})
	}
	b.Run("sampler", func(b *testing.B) {
		s := newSampler(d)
		for b.Loop() {
			if m := s.collect(ctx, tasks); len(m.TaskMetrics) != 100 {
				b.Fatal(len(m.TaskMetrics))
			}
		}
	})
	b.Run("peer-stats-calls-only", func(b *testing.B) {
		for b.Loop() {
			for _, id := range ids {
				if _, err := d.Stats(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
