// Package appscalingstore keeps Application Auto Scaling objects in the
// state store (internal/store) as records of its own (records.go), under
//
//	/appscaling/<account>/<region>/gen                                write generation of the scope
//	/appscaling/<account>/<region>/targets/<target>                   a scalable target
//	/appscaling/<account>/<region>/policies/<target>/<name>           a scaling policy
//	/appscaling/<account>/<region>/scheduled/<target>/<name>          a scheduled action
//	/appscaling/<account>/<region>/activities/<target>/<start>-<seq>  a scaling activity
//
// where <target> is the path-escaped "<namespace>|<dimension>|<resource-id>"
// <start> the activity's start in zero-padded Unix nanoseconds and <seq>
// a per-target sequence number (so a listing is in time order, ties in
// the order written). As in elbstore, every change is one
// transaction over the whole scope that compares the scope's generation;
// Application Auto Scaling writes are few. Activities beyond
// MaxActivities per target are deleted by the write that adds one.
package appscalingstore
