package driver_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/driver"
)

type nopDriver struct{ driver.Driver }

func TestRegisterAndOpen(t *testing.T) {
	var got driver.Config
	driver.Register("test-registry-ok", func(cfg driver.Config) (driver.Driver, error) {
		got = cfg
		return nopDriver{}, nil
	})
	d, err := driver.Open("test-registry-ok", driver.Config{Params: map[string]string{"k": "v"}})
	if err != nil || d == nil {
		t.Fatalf("Open = %v, %v", d, err)
	}
	if got.Logger == nil || got.Params["k"] != "v" {
		t.Errorf("factory got %+v; want a default logger and the params", got)
	}
	found := false
	for _, n := range driver.Drivers() {
		found = found || n == "test-registry-ok"
	}
	if !found {
		t.Errorf("Drivers() = %v lacks test-registry-ok", driver.Drivers())
	}
}

func TestOpenFactoryError(t *testing.T) {
	boom := errors.New("boom")
	driver.Register("test-registry-err", func(driver.Config) (driver.Driver, error) { return nil, boom })
	if _, err := driver.Open("test-registry-err", driver.Config{}); !errors.Is(err, boom) {
		t.Errorf("Open = %v; want boom", err)
	}
}

func TestOpenUnknown(t *testing.T) {
	_, err := driver.Open("no-such-driver", driver.Config{})
	var unknown *driver.UnknownDriverError
	if !errors.As(err, &unknown) || unknown.Name != "no-such-driver" {
		t.Fatalf("Open = %v; want *UnknownDriverError", err)
	}
	if !strings.Contains(err.Error(), `"no-such-driver"`) {
		t.Errorf("message %q lacks the name", err)
	}
}

func TestRegisterPanics(t *testing.T) {
	f := func(driver.Config) (driver.Driver, error) { return nopDriver{}, nil }
	driver.Register("test-registry-dup", f)
	for name, fn := range map[string]func(){
		"duplicate":   func() { driver.Register("test-registry-dup", f) },
		"nil factory": func() { driver.Register("test-registry-nil", nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Register did not panic")
				}
			}()
			fn()
		})
	}
}

func TestPullError(t *testing.T) {
	inner := errors.New("inner")
	err := error(&driver.PullError{Ref: "x", Message: "pull access denied for x", Err: inner})
	if err.Error() != "pull access denied for x" || !errors.Is(err, inner) {
		t.Errorf("PullError: %q", err)
	}
	if (&driver.PullError{Ref: "x"}).Error() == "" {
		t.Error("empty message")
	}
	if !(driver.RegistryAuth{}).IsZero() || (driver.RegistryAuth{Username: "u"}).IsZero() {
		t.Error("RegistryAuth.IsZero")
	}
}
