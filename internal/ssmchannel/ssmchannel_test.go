package ssmchannel

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestFrameRoundTrip(t *testing.T) {
	m := Message{Type: TypeOutput, Sequence: 7, Flags: 1, ID: NewUUID(), PayloadType: PayloadOutput,
		Payload: []byte("hi"), CreatedDate: time.UnixMilli(1700000000123)}
	b := m.Marshal()
	if len(b) != 122 {
		t.Fatalf("frame is %d bytes, want 120 + payload", len(b))
	}
	if got := string(b[4:36]); got != TypeOutput+strings.Repeat(" ", 32-len(TypeOutput)) {
		t.Fatalf("type field %q", got)
	}
	// The plugin writes the UUID's low half first.
	if !bytes.Equal(b[64:72], m.ID[8:]) {
		t.Fatal("message ID halves not swapped")
	}
	got, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != m.Type || got.Sequence != 7 || got.ID != m.ID || string(got.Payload) != "hi" || !got.CreatedDate.Equal(m.CreatedDate) {
		t.Fatalf("round trip: %+v", got)
	}
	b[len(b)-1] = 'X'
	if _, err := Unmarshal(b); err == nil {
		t.Fatal("a corrupt payload passed the digest check")
	}
}

// echoProc echoes its input once, upper-cased, then exits 3.
type echoProc struct {
	in   chan []byte
	once sync.Once
	done chan struct{}
	size chan Size
}

func (p *echoProc) Write(b []byte) (int, error) {
	p.in <- append([]byte(nil), b...)
	return len(b), nil
}
func (p *echoProc) Read(b []byte) (int, error) {
	select {
	case in := <-p.in:
		return copy(b, bytes.ToUpper(in)), nil
	case <-p.done:
		return 0, io.EOF
	}
}
func (p *echoProc) Resize(s Size) error                   { p.size <- s; return nil }
func (p *echoProc) Wait(ctx context.Context) (int, error) { return 3, nil }
func (p *echoProc) Close() error                          { p.once.Do(func() { close(p.done) }); return nil }

func TestServeAndClient(t *testing.T) {
	proc := &echoProc{in: make(chan []byte, 4), done: make(chan struct{}), size: make(chan Size, 4)}
	started := make(chan bool, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		open, err := ReadOpen(r.Context(), conn)
		if err != nil || open.TokenValue != "tok" {
			t.Errorf("open: %+v %v", open, err)
			return
		}
		_ = Serve(r.Context(), conn, open, ServeConfig{SessionID: "s", Start: func(ctx context.Context, tty bool, size Size) (Process, error) {
			started <- tty
			return proc, nil
		}})
	}))
	defer srv.Close()
	sizes := make(chan Size, 1)
	sizes <- Size{Cols: 100, Rows: 30}
	pr, pw := io.Pipe()
	defer pw.Close()
	var out bytes.Buffer
	var outMu sync.Mutex
	done := make(chan struct{})
	var code int
	var err error
	go func() {
		defer close(done)
		code, err = Run(t.Context(), ClientConfig{URL: "ws" + strings.TrimPrefix(srv.URL, "http"), Token: "tok", Stdin: pr,
			Stdout: writerFunc(func(b []byte) (int, error) { outMu.Lock(); defer outMu.Unlock(); return out.Write(b) }), Sizes: sizes})
	}()
	if tty := <-started; tty {
		t.Fatal("the client asked for no terminal")
	}
	if s := <-proc.size; s.Cols != 100 || s.Rows != 30 {
		t.Fatalf("size %+v", s)
	}
	_, _ = pw.Write([]byte("hello"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		outMu.Lock()
		got := out.String()
		outMu.Unlock()
		if got == "HELLO" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("output %q", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	proc.Close()
	<-done
	if err != nil || code != 3 {
		t.Fatalf("exit %d, %v", code, err)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
