// Package server is berth's one composition root: it turns a Config into the
// subsystems (state store, AWS protocol router, service APIs, registry,
// controllers, managed agent) and runs them until its context ends. Nothing
// else imports every package.
package server
