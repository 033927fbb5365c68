// Package stats holds the small figures the benchmark programs under
// bench/ print: percentiles, medians, milliseconds, and the host's load
// average that every report gives with its figures.
package stats
