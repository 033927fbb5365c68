package acs

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	b, err := Encode(TypeAck, AckRequest{Cluster: "c", ContainerInstance: "i", MessageID: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"type":"AckRequest","message":{"cluster":"c","containerInstance":"i","messageId":"m"}}` {
		t.Fatalf("framing: %s", b)
	}
	env, err := Decode(b)
	if err != nil || env.Type != TypeAck {
		t.Fatalf("decode: %+v %v", env, err)
	}
	if _, err := Decode([]byte(`{"message":{}}`)); err == nil {
		t.Fatal("a message without a type was accepted")
	}
}

func TestNewTaskShape(t *testing.T) {
	mem := 128
	port := 8080
	td := &ecs.TaskDefinition{Family: "web", Revision: 3, ARN: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3", NetworkMode: "awsvpc", CPU: "512", Memory: "1024",
		ContainerDefinitions: []ecs.ContainerDefinition{{Name: "app", Image: "busybox", Memory: &mem, Command: []string{"sleep"},
			Environment: []ecs.KeyValuePair{{Name: "A", Value: "1"}}, PortMappings: []ecs.PortMapping{{ContainerPort: &port}},
			HealthCheck: &ecs.HealthCheck{Command: []string{"CMD-SHELL", "true"}}}}}
	task := &ecs.Task{ARN: "arn:aws:ecs:us-east-1:123456789012:task/c/abc", DesiredStatus: "RUNNING", CPU: "512", Memory: "1024",
		Overrides:   ecs.TaskOverride{ContainerOverrides: []ecs.ContainerOverride{{Name: "app", Command: []string{"echo", "hi"}}}},
		Attachments: []ecs.Attachment{{ID: "att-1", Type: ecs.AttachmentENI}}}
	at := NewTask(task, td)
	if at.Family != "web" || at.Version != "3" || at.CPU != 0.5 || at.Memory != 1024 || at.NetworkMode != "awsvpc" {
		t.Fatalf("task: %+v", at)
	}
	c := at.Containers[0]
	if c.Command[0] != "echo" || c.Environment["A"] != "1" || c.Memory != 128 || !c.Essential || c.PortMappings[0].ContainerPort != 8080 || c.DockerConfig == nil {
		t.Fatalf("container: %+v", c)
	}
	if len(at.ElasticNetworkInterfaces) != 1 || at.ElasticNetworkInterfaces[0].AttachmentARN != "arn:aws:ecs:us-east-1:123456789012:attachment/att-1" {
		t.Fatalf("ENIs: %+v", at.ElasticNetworkInterfaces)
	}
}

func TestSessionPayloadAckAndRefusal(t *testing.T) {
	acked := make(chan string, 1)
	srv := &Server{
		Heartbeat: 100 * time.Millisecond,
		Connect: func(ctx context.Context, s *Session) error {
			if s.InstanceARN == "gone" {
				return &RefusedError{Type: TypeInactiveInstance, Message: "deregistered"}
			}
			return nil
		},
		OnAck: func(s *Session, id string) { acked <- id },
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	got := make(chan *PayloadMessage, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &Client{Endpoint: ts.URL + "/", ClusterARN: "cluster", InstanceARN: "inst", Heartbeat: 100 * time.Millisecond,
		OnPayload: func(ctx context.Context, m *PayloadMessage) error { got <- m; return nil }}
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx, nil) }()
	deadline := time.Now().Add(5 * time.Second)
	for srv.Hub.Session("inst") == nil {
		if time.Now().After(deadline) {
			t.Fatal("no session")
		}
		time.Sleep(10 * time.Millisecond)
	}
	id, err := srv.Hub.Session("inst").SendPayload(ctx, []Task{{ARN: "t1", DesiredStatus: "RUNNING"}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m.MessageID != id || len(m.Tasks) != 1 || m.Tasks[0].ARN != "t1" || m.ContainerInstanceARN != "inst" {
			t.Fatalf("payload: %+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("payload not received")
	}
	select {
	case a := <-acked:
		if a != id {
			t.Fatalf("acked %q, want %q", a, id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no ack")
	}
	// (TestSessionHeartbeatsKeepItUp checks the heartbeats, in fake time.)
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("client Run after cancel: %v", err)
	}

	refused := &Client{Endpoint: ts.URL, ClusterARN: "cluster", InstanceARN: "gone"}
	err = refused.Run(context.Background(), nil)
	var re *RefusedError
	if !errors.As(err, &re) || re.Type != TypeInactiveInstance {
		t.Fatalf("refused session: %v", err)
	}
}
