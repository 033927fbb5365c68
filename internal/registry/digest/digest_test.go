package digest

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	good := []string{
		"sha256:" + strings.Repeat("a", 64),
		"sha512:" + strings.Repeat("0", 128),
	}
	for _, s := range good {
		d, err := Parse(s)
		if err != nil || string(d) != s {
			t.Errorf("Parse(%q) = %q, %v", s, d, err)
		}
	}
	bad := map[string]error{
		"":                                  ErrInvalid,
		"sha256":                            ErrInvalid,
		"sha256:":                           ErrInvalid,
		"sha256:baddigeststring":            ErrInvalid,
		"sha256:" + strings.Repeat("A", 64): ErrInvalid,
		"sha512:" + strings.Repeat("a", 64): ErrInvalid,
		"md5:" + strings.Repeat("a", 32):    ErrUnsupported,
		"SHA256:" + strings.Repeat("a", 64): ErrInvalid,
		"sha-:" + strings.Repeat("a", 64):   ErrInvalid,
		"latest":                            ErrInvalid,
	}
	for s, want := range bad {
		if _, err := Parse(s); !errors.Is(err, want) {
			t.Errorf("Parse(%q) = %v, want %v", s, err, want)
		}
	}
}

func TestFromBytes(t *testing.T) {
	d := FromBytes(SHA256, []byte(""))
	if d != "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("sha256 of empty = %s", d)
	}
	if d.Algorithm() != SHA256 || len(d.Encoded()) != 64 {
		t.Errorf("split %q %q", d.Algorithm(), d.Encoded())
	}
	if !d.Verify(nil) || d.Verify([]byte("x")) {
		t.Error("Verify")
	}
	d5 := FromBytes(SHA512, []byte("{}"))
	if _, err := Parse(string(d5)); err != nil {
		t.Error(err)
	}
}
