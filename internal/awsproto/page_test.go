package awsproto

import (
	"encoding/base64"
	"slices"
	"strconv"
	"testing"
)

func TestPageSize(t *testing.T) {
	p := func(n int) *int { return &n }
	for _, tc := range []struct {
		max    *int
		want   int
		wantOK bool
	}{
		{nil, 50, true}, {p(1), 1, true}, {p(100), 100, true},
		{p(0), 0, false}, {p(-1), 0, false}, {p(101), 0, false},
	} {
		n, ok := PageSize(tc.max, 50, 100)
		if n != tc.want || ok != tc.wantOK {
			t.Errorf("PageSize(%v, 50, 100) = %d, %v; want %d, %v", tc.max, n, ok, tc.want, tc.wantOK)
		}
	}
}

func TestPageWalksEveryItemOnce(t *testing.T) {
	items := []int{0, 1, 2, 3, 4, 5, 6}
	for n := 1; n <= 8; n++ {
		var got []int
		token, pages := "", 0
		for {
			page, next, ok := Page(items, token, n)
			if !ok {
				t.Fatalf("n=%d: token %q refused", n, token)
			}
			got = append(got, page...)
			pages++
			if next == "" {
				break
			}
			token = next
		}
		if !slices.Equal(got, items) {
			t.Errorf("n=%d: pages gave %v", n, got)
		}
		if want := (len(items) + n - 1) / n; pages != want {
			t.Errorf("n=%d: %d pages, want %d", n, pages, want)
		}
	}
	if page, next, ok := Page([]int{}, "", 5); !ok || len(page) != 0 || next != "" {
		t.Errorf("empty list: %v %q %v", page, next, ok)
	}
}

func TestPageRefusesForeignTokens(t *testing.T) {
	items := []string{"a", "b", "c"}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tok := range []string{"!!", enc("x"), enc("-1"), enc(strconv.Itoa(len(items) + 1))} {
		if _, _, ok := Page(items, tok, 2); ok {
			t.Errorf("token %q accepted", tok)
		}
	}
	if page, next, ok := Page(items, enc("3"), 2); !ok || len(page) != 0 || next != "" {
		t.Errorf("token at the end: %v %q %v", page, next, ok)
	}
}

func TestPageAfter(t *testing.T) {
	keys := []string{"a", "b", "c", "d", "e"}
	page, next, ok := PageAfter(keys, "", "v1:", 2)
	if !ok || !slices.Equal(page, []string{"a", "b"}) || next == "" {
		t.Fatalf("first page: %v %q %v", page, next, ok)
	}
	// "b" is deleted and "a2" added before the next call: the page resumes
	// after "b" all the same.
	changed := []string{"a", "a2", "c", "d", "e"}
	page, next, ok = PageAfter(changed, next, "v1:", 2)
	if !ok || !slices.Equal(page, []string{"c", "d"}) {
		t.Fatalf("second page after a change: %v %q %v", page, next, ok)
	}
	page, next, ok = PageAfter(changed, next, "v1:", 2)
	if !ok || !slices.Equal(page, []string{"e"}) || next != "" {
		t.Fatalf("last page: %v %q %v", page, next, ok)
	}
	foreign := base64.RawURLEncoding.EncodeToString([]byte("v0:b"))
	if _, _, ok := PageAfter(keys, foreign, "v1:", 2); ok {
		t.Error("a token with another prefix was accepted")
	}
	if _, _, ok := PageAfter(keys, "%%%", "v1:", 2); ok {
		t.Error("a token that is not base64 was accepted")
	}
}
