package docker

import (
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/berth-dev/berth/internal/driver"
)

func TestToEvent(t *testing.T) {
	msg := func(action string, attrs map[string]string) events.Message {
		return events.Message{Type: events.ContainerEventType, Action: events.Action(action),
			Actor: events.Actor{ID: "abc", Attributes: attrs}, TimeNano: 1_700_000_000_000_000_000}
	}
	ev, ok := toEvent(msg("die", map[string]string{"name": "web", "image": "busybox", "exitCode": "137",
		driver.LabelTaskARN: "arn", labelNetworkMode: "bridge"}))
	if !ok || ev.Type != driver.EventDie || ev.ExitCode != 137 || ev.Name != "web" || ev.Image != "busybox" {
		t.Errorf("die: %+v", ev)
	}
	if len(ev.Labels) != 1 || ev.Labels[driver.LabelTaskARN] != "arn" || ev.Time.UnixNano() != 1_700_000_000_000_000_000 {
		t.Errorf("die labels/time: %+v", ev)
	}
	for action, want := range map[string]driver.HealthStatus{
		"health_status: healthy":   driver.HealthHealthy,
		"health_status: unhealthy": driver.HealthUnhealthy,
	} {
		ev, ok := toEvent(msg(action, nil))
		if !ok || ev.Type != driver.EventHealthStatus || ev.Health != want {
			t.Errorf("%s: %+v", action, ev)
		}
	}
	for _, action := range []string{"start", "oom", "destroy"} {
		if ev, ok := toEvent(msg(action, nil)); !ok || string(ev.Type) != action {
			t.Errorf("%s: %+v, %v", action, ev, ok)
		}
	}
	if _, ok := toEvent(msg("exec_start: sh", nil)); ok {
		t.Error("exec_start reported")
	}
	// Of a sandbox only its end is reported, marked as a task network's.
	for _, action := range []string{"die", "destroy"} {
		if ev, ok := toEvent(msg(action, map[string]string{labelRole: roleSandbox, driver.LabelTaskARN: "arn"})); !ok || !ev.TaskNetwork || ev.ContainerID != "abc" || ev.Labels[driver.LabelTaskARN] != "arn" {
			t.Errorf("sandbox %s: %+v, %v", action, ev, ok)
		}
	}
	for _, action := range []string{"start", "oom", "health_status: healthy"} {
		if _, ok := toEvent(msg(action, map[string]string{labelRole: roleSandbox})); ok {
			t.Errorf("sandbox %s reported", action)
		}
	}
	if ev, _ := toEvent(msg("die", nil)); ev.TaskNetwork {
		t.Error("a container's die marked as a task network's")
	}
}

func TestMemoryUsage(t *testing.T) {
	v1 := container.MemoryStats{Usage: 100, Stats: map[string]uint64{"total_inactive_file": 30}}
	v2 := container.MemoryStats{Usage: 100, Stats: map[string]uint64{"inactive_file": 40}}
	if memoryUsage(v1) != 70 || memoryUsage(v2) != 60 || memoryUsage(container.MemoryStats{Usage: 5}) != 5 {
		t.Errorf("memoryUsage: %d %d", memoryUsage(v1), memoryUsage(v2))
	}
}

func TestContainerConfigValidation(t *testing.T) {
	d, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	base := driver.ContainerSpec{Name: "x", Image: "i"}
	bad := map[string]func(*driver.ContainerSpec){
		"reserved label": func(s *driver.ContainerSpec) { s.Labels = map[string]string{driver.LabelDriverPrefix + "x": "y"} },
		"awsvpc no net":  func(s *driver.ContainerSpec) { s.Network.Mode = driver.NetworkModeAWSVPC },
		"unknown mode":   func(s *driver.ContainerSpec) { s.Network.Mode = "overlay" },
		"bad port":       func(s *driver.ContainerSpec) { s.Network.PortMappings = []driver.PortMapping{{ContainerPort: 70000}} },
		"bad protocol": func(s *driver.ContainerSpec) {
			s.Network.PortMappings = []driver.PortMapping{{ContainerPort: 80, Protocol: "icmp"}}
		},
		"bad dns":       func(s *driver.ContainerSpec) { s.DNSServers = []string{"dns.example"} },
		"unknown mount": func(s *driver.ContainerSpec) { s.Mounts = []driver.Mount{{Type: "nfs"}} },
	}
	for name, mutate := range bad {
		s := base
		mutate(&s)
		if _, _, err := d.containerConfig(s, taskLimits{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	s := base
	s.MemoryMiB, s.SwapMiB, s.MemoryReservationMiB = 64, 16, 32
	s.StopTimeout = 1500 * time.Millisecond
	s.Env = map[string]string{"B": "2", "A": "1"}
	s.Mounts = []driver.Mount{{Type: driver.MountTypeBind, Source: "/h", Target: "/c", ReadOnly: true}}
	s.Network.PortMappings = []driver.PortMapping{{ContainerPort: 80, HostPort: 8080}, {ContainerPort: 53, Protocol: driver.ProtocolUDP}}
	cfg, hc, err := d.containerConfig(s, taskLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if hc.Memory != 64<<20 || hc.MemorySwap != 80<<20 || hc.MemoryReservation != 32<<20 || *cfg.StopTimeout != 2 {
		t.Errorf("resources: %+v, stop timeout %d", hc.Resources, *cfg.StopTimeout)
	}
	if cfg.Env[0] != "A=1" || cfg.Env[1] != "B=2" || hc.Binds[0] != "/h:/c:ro" {
		t.Errorf("env %v binds %v", cfg.Env, hc.Binds)
	}
	if cfg.Labels[labelPorts] != "80/tcp,53/udp" || len(hc.PortBindings) != 2 {
		t.Errorf("ports: label %q bindings %v", cfg.Labels[labelPorts], hc.PortBindings)
	}
}
