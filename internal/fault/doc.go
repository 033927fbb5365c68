// Package fault is berth's one error model: an error carries a Kind (what
// went wrong, in terms a caller can act on) and a human message. Packages
// wrap faults with %w; nothing matches errors by their text. The API edge
// (one table per AWS service) maps kinds to AWS exception names and HTTP
// status codes.
package fault
