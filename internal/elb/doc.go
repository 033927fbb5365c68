// Package elb is the pure domain of Elastic Load Balancing v2 (application
// and network load balancers): load balancers, target groups, targets and
// their health, listeners, rules with their conditions and actions, and the
// attributes of each, with AWS's names, defaults, limits, validation and
// error codes. It does no I/O: identifiers and times are inputs.
package elb
