package logs

import (
	"testing"
	"time"
)

func TestPatterns(t *testing.T) {
	cases := []struct {
		pattern, msg string
		want         bool
	}{
		{"", "anything", true},
		{"ERROR", "2024 ERROR disk full", true},
		{"ERROR", "2024 error disk full", false},
		{"ERROR disk", "ERROR disk full", true},
		{"ERROR disk", "ERROR net down", false},
		{`"disk full"`, "ERROR disk full", true},
		{`"disk full"`, "ERROR full disk", false},
		{"?ERROR ?WARN", "WARN low", true},
		{"?ERROR ?WARN", "INFO fine", false},
		{"ERROR -timeout", "ERROR timeout", false},
		{"ERROR -timeout", "ERROR refused", true},
		{"%ERR[0-9]+%", "code ERR42", true},
		{`{ $.level = "ERROR" }`, `{"level":"ERROR","n":3}`, true},
		{`{ $.level = "ERROR" }`, `{"level":"INFO"}`, false},
		{`{ $.level = "ERROR" }`, `level ERROR`, false},
		{`{ $.level != "ERROR" }`, `{"level":"INFO"}`, true},
		{`{ $.n > 2 && $.level = ERR* }`, `{"level":"ERROR","n":3}`, true},
		{`{ $.n < 2 || $.user.id = 7 }`, `{"n":3,"user":{"id":7}}`, true},
		{`{ ($.n < 2 || $.n >= 5) && $.ok = true }`, `{"n":5,"ok":true}`, true},
		{`{ $.a[1] = "y" }`, `{"a":["x","y"]}`, true},
		{`{ $.missing NOT EXISTS }`, `{"a":1}`, true},
		{`{ $.a IS NULL }`, `{"a":null}`, true},
		{`[ip, user, ..., status = 4*, bytes > 1000]`, `10.0.0.1 bob GET /x 404 2048`, true},
		{`[ip, user, ..., status = 4*, bytes > 1000]`, `10.0.0.1 bob GET /x 200 2048`, false},
		{`[ip, user, ..., status = 4*, bytes > 1000]`, `10.0.0.1 bob GET /x 404 10`, false},
		{`[a, b]`, `one two three`, false},
		{`[a, b, c = "x y"]`, `one two "x y"`, true},
		{`[..., s = 404 || s = 500]`, `GET / 500`, true},
		{`[ts, level = ERROR, ...]`, `[2024-01-01 10:00] ERROR boom now`, true},
	}
	for _, c := range cases {
		p, err := ParsePattern(c.pattern)
		if err != nil {
			t.Errorf("ParsePattern(%q): %v", c.pattern, err)
			continue
		}
		if got := p.Match(c.msg); got != c.want {
			t.Errorf("%q.Match(%q) = %v, want %v", c.pattern, c.msg, got, c.want)
		}
	}
}

func TestBadPatterns(t *testing.T) {
	for _, p := range []string{`{ $.a = }`, `{ level = 1 }`, `{ $.a = 1`, `"open`, `[a, , b]`, `[a = ]`, `?`} {
		if _, err := ParsePattern(p); err == nil {
			t.Errorf("ParsePattern(%q) succeeded", p)
		}
	}
}

func TestCheckBatch(t *testing.T) {
	now := time.Date(2026, 1, 20, 12, 0, 0, 0, time.UTC)
	ms := func(d time.Duration) int64 { return now.Add(d).UnixMilli() }
	ev := []InputEvent{
		{ms(-15 * 24 * time.Hour), "too old"},
		{ms(-time.Hour), "ok"},
		{ms(0), "ok"},
		{ms(3 * time.Hour), "too new"},
	}
	// The batch spans more than 24h: rejected whole.
	if _, _, err := CheckBatch(ev, now, 0); err == nil {
		t.Fatal("a batch spanning 15 days was accepted")
	}
	ev[0].Timestamp = ms(-20 * time.Hour)
	acc, rej, err := CheckBatch(ev, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(acc) != 3 || rej.TooNewStartIndex == nil || *rej.TooNewStartIndex != 3 || rej.TooOldEndIndex != nil {
		t.Fatalf("accepted %d, rejected %+v", len(acc), rej)
	}
	acc, rej, err = CheckBatch(ev[:3], now.Add(14*24*time.Hour-10*time.Hour), 0)
	if err != nil || len(acc) != 2 || rej.TooOldEndIndex == nil || *rej.TooOldEndIndex != 1 {
		t.Fatalf("too old: %v %d %+v", err, len(acc), rej)
	}
	acc, rej, err = CheckBatch(ev[:3], now.Add(19*time.Hour), 1)
	if err != nil || len(acc) != 2 || rej.ExpiredEndIndex == nil || *rej.ExpiredEndIndex != 1 {
		t.Fatalf("expired: %v %d %+v", err, len(acc), rej)
	}
	if _, _, err := CheckBatch([]InputEvent{{ms(0), "b"}, {ms(-1), "a"}}, now, 0); err == nil {
		t.Fatal("events out of order were accepted")
	}
	big := make([]InputEvent, 2)
	for i := range big {
		big[i] = InputEvent{ms(0), string(make([]byte, 600000))}
	}
	if _, _, err := CheckBatch(big, now, 0); err == nil {
		t.Fatal("a 1.2MB batch was accepted")
	}
	if _, _, err := CheckBatch(make([]InputEvent, MaxBatchEvents+1), now, 0); err == nil {
		t.Fatal("10001 events were accepted")
	}
}
