// Package elbstore keeps Elastic Load Balancing v2 objects in the state
// store (internal/store) as records of its own (records.go), under
//
//	/elb/<account>/<region>/gen                          write generation of the scope
//	/elb/<account>/<region>/loadbalancers/<name>
//	/elb/<account>/<region>/targetgroups/<name>
//	/elb/<account>/<region>/listeners/<lb-id>/<listener-id>
//	/elb/<account>/<region>/rules/<lb-id>/<listener-id>/<rule-id>
//	/elb/<account>/<region>/targets/<tg-id>/<target-id>:<port>
//	/elb-addresses/<ip>                                  a load balancer's loopback address (host-wide)
//
// Every change of a scope's configuration is one transaction that reads
// the whole scope (Update), compares the scope's generation key and
// rewrites it: ELBv2 writes are few, and a whole-scope read makes the
// cross-object rules (a target group in use cannot be deleted, a priority
// is unique per listener) exact. Target health, which the data plane
// reports often, is written per target with a compare on that target's
// record only (SetTargetHealth).
package elbstore
