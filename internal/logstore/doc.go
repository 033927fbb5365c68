// Package logstore keeps CloudWatch Logs data on disk: a directory per log
// group (group.json: name, creation time, retention, tags), in it a
// directory per stream (stream.json) holding append-only segment files of
// length-prefixed events. Segments roll at SegmentBytes; retention drops
// whole segments whose newest event has expired (reads hide expired
// events of a segment still kept). An in-memory index (offsets and
// timestamps per segment) is rebuilt by scanning at Open, which also cuts
// a torn last record.
//
//	<dir>/<account>/<region>/<sha(group)>/group.json
//	                                  /<sha(stream)>/stream.json
//	                                  /<sha(stream)>/00000000000000000000.seg
//
// Record: uint32 length of the rest | int64 timestamp ms | int64 ingestion
// ms | message bytes (little endian). Writes are not fsynced per batch: a
// process crash loses nothing written, a machine crash may lose the last
// batches.
//
// Locks: Store.mu guards the group map; group.mu a group's meta and stream
// map; stream.mu a stream's segments and appends.
package logstore
