package etcd

import "go.uber.org/zap"

// nopLogger silences the etcd client's own zap logging; errors reach the
// caller as returned errors.
func nopLogger() *zap.Logger { return zap.NewNop() }
