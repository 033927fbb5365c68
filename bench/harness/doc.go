// Package harness holds what the benchmark programs that start a berth
// server share: building berth, opening Docker with the busybox image, a
// free loopback address, waiting for the server's health endpoint,
// stopping a process they started, and removing the containers a run left
// behind.
package harness
