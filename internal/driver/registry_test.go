package driver_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/driver"
)

type nopDriver struct{ driver.Driver }

func TestRegisterAndOpen(t *testing.T) {
	r := driver.NewRegistry()
	var got driver.Config
	r.Register("ok", func(cfg driver.Config) (driver.Driver, error) {
		got = cfg
		return nopDriver{}, nil
	})
	r.Register("another", func(driver.Config) (driver.Driver, error) { return nopDriver{}, nil })
	d, err := r.Open("ok", driver.Config{Params: map[string]string{"k": "v"}})
	if err != nil || d == nil {
		t.Fatalf("Open = %v, %v", d, err)
	}
	if got.Logger == nil || got.Params["k"] != "v" {
		t.Errorf("factory got %+v; want a default logger and the params", got)
	}
	if names := r.Names(); strings.Join(names, ",") != "another,ok" {
		t.Errorf("Names() = %v; want [another ok]", names)
	}
	if !r.Has("ok") || r.Has("nope") || r.Check("ok") != nil {
		t.Error("Has/Check disagree with what was registered")
	}
	// Registries are values: one does not see another's drivers.
	if driver.NewRegistry().Has("ok") {
		t.Error("a new registry sees another registry's driver")
	}
}

func TestOpenFactoryError(t *testing.T) {
	r := driver.NewRegistry()
	boom := errors.New("boom")
	r.Register("err", func(driver.Config) (driver.Driver, error) { return nil, boom })
	if _, err := r.Open("err", driver.Config{}); !errors.Is(err, boom) {
		t.Errorf("Open = %v; want boom", err)
	}
}

func TestOpenUnknown(t *testing.T) {
	r := driver.NewRegistry()
	r.Register("docker", func(driver.Config) (driver.Driver, error) { return nopDriver{}, nil })
	for _, err := range []error{r.Check("no-such-driver"), func() error { _, err := r.Open("no-such-driver", driver.Config{}); return err }()} {
		var unknown *driver.UnknownDriverError
		if !errors.As(err, &unknown) || unknown.Name != "no-such-driver" {
			t.Fatalf("got %v; want *UnknownDriverError", err)
		}
		if !strings.Contains(err.Error(), `"no-such-driver"`) || !strings.Contains(err.Error(), "docker") {
			t.Errorf("message %q lacks the name or the registered drivers", err)
		}
	}
}

func TestRegisterPanics(t *testing.T) {
	f := func(driver.Config) (driver.Driver, error) { return nopDriver{}, nil }
	r := driver.NewRegistry()
	r.Register("dup", f)
	for name, fn := range map[string]func(){
		"duplicate":   func() { r.Register("dup", f) },
		"nil factory": func() { r.Register("nil", nil) },
		"empty name":  func() { r.Register("", f) },
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
