package store

import (
	"errors"
	"fmt"
)

// ErrInvalidArgument: a malformed request (empty or oversized key, negative
// revision, the same key written twice in one Txn). Nothing was written.
var ErrInvalidArgument = errors.New("store: invalid argument")

// MaxKeyLen is the longest key, in bytes, any backend accepts.
const MaxKeyLen = 4096

// ValidateKey reports whether key is acceptable as a stored key.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalidArgument)
	case key[0] != '/':
		return fmt.Errorf("%w: key %q does not start with '/'", ErrInvalidArgument, key)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: key of %d bytes exceeds %d", ErrInvalidArgument, len(key), MaxKeyLen)
	}
	return nil
}

// ValidateTxn checks the shape of a Txn before a backend applies it: every
// key valid, no negative compare revision, and no key written twice. Backends
// call it so that all of them reject the same requests.
func ValidateTxn(cmps []Compare, ops []Op) error {
	for _, c := range cmps {
		if err := ValidateKey(c.Key); err != nil {
			return err
		}
		if c.ModRevision < 0 {
			return fmt.Errorf("%w: negative compare revision %d for %q", ErrInvalidArgument, c.ModRevision, c.Key)
		}
	}
	if len(ops) > 1 {
		seen := make(map[string]struct{}, len(ops))
		for _, op := range ops {
			if _, dup := seen[op.Key]; dup {
				return fmt.Errorf("%w: key %q written twice in one txn", ErrInvalidArgument, op.Key)
			}
			seen[op.Key] = struct{}{}
		}
	}
	for _, op := range ops {
		if err := ValidateKey(op.Key); err != nil {
			return err
		}
	}
	return nil
}
