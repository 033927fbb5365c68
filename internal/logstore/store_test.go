package logstore

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-dev/berth/internal/logs"
)

var sc = logs.Scope{Account: "000000000000", Region: "us-east-1"}

func readAll(t *testing.T, s *Stream, from int64) []logs.Event {
	t.Helper()
	var out []logs.Event
	c := s.Cursor(from)
	for {
		e, _, ok, err := c.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, e)
	}
}

func TestAppendReadReopen(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateGroup(sc, GroupMeta{Name: "/ecs/web", CreationTime: 1}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateGroup(sc, GroupMeta{Name: "/ecs/web"}); err == nil {
		t.Fatal("duplicate group created")
	}
	if err := st.CreateStream(sc, "/ecs/web", "a/b/c", 2); err != nil {
		t.Fatal(err)
	}
	s, _, err := st.Stream(sc, "/ecs/web", "a/b/c")
	if err != nil {
		t.Fatal(err)
	}
	// Large messages roll segments.
	msg := string(make([]byte, 300_000))
	for i := range 60 {
		if err := s.Append([]logs.InputEvent{{Timestamp: int64(i), Message: fmt.Sprintf("%d %s", i, msg)}}, 100); err != nil {
			t.Fatal(err)
		}
	}
	got := readAll(t, s, 0)
	if len(got) != 60 || got[59].Timestamp != 59 || got[0].IngestionTime != 100 {
		t.Fatalf("read %d events", len(got))
	}
	if n := len(readAll(t, s, 42)); n != 18 {
		t.Fatalf("from 42: %d events", n)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*", "*", "*", "*", "*.seg"))
	if len(segs) < 2 {
		t.Fatalf("%d segments, want a roll", len(segs))
	}
	// A torn last record is cut at reopen.
	st.Close()
	last := segs[len(segs)-1]
	f, _ := os.OpenFile(last, os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{200, 0, 0, 0, 1, 2})
	f.Close()
	st, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, _, _ = st.Stream(sc, "/ecs/web", "a/b/c")
	if n := len(readAll(t, s, 0)); n != 60 {
		t.Fatalf("after reopen %d events", n)
	}
	if err := s.Append([]logs.InputEvent{{Timestamp: 1000, Message: "after"}}, 200); err != nil {
		t.Fatal(err)
	}
	all := readAll(t, s, 0)
	if all[len(all)-1].Message != "after" {
		t.Fatalf("last = %.20q", all[len(all)-1].Message)
	}
	info := s.Info()
	if info.FirstEventTime != 0 || info.LastEventTime != 1000 || info.Events != 61 || info.LastIngestionTime != 200 {
		t.Fatalf("info %+v", info)
	}
	// Retention drops whole expired segments.
	st.UpdateGroup(sc, "/ecs/web", func(m *GroupMeta) error { m.RetentionDays = 1; return nil })
	n, err := st.Expire(func(int) int64 { return 500 })
	if err != nil || n < 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	if first, _ := s.Bounds(); first == 0 {
		t.Fatal("first sequence did not move")
	}
	if err := st.DeleteGroup(sc, "/ecs/web"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Group(sc, "/ecs/web"); err == nil {
		t.Fatal("group survived deletion")
	}
}
