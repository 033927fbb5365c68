// Package server is berth's one composition root, for both of the
// binary's roles. For `berth server`, New turns a Config into the
// subsystems (state store, state cache, AWS protocol router, service APIs,
// registry, controller manager, managed agents) without starting any, and
// Run runs them until its context ends, then stops them (cancel, then
// wait). For `berth agent`, NewAgent turns an AgentConfig into a container
// driver (from the driver registry, Drivers) and a node agent, and
// Agent.Run runs it. Configuration is parsed completely (durations,
// credentials file, driver names) before anything opens. Nothing else
// imports every package.
package server
