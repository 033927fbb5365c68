package blobstore

import "golang.org/x/sys/unix"

// startWriteback asks the kernel to start writing the upload's new bytes
// to disk without waiting (sync_file_range SYNC_FILE_RANGE_WRITE). It is an
// optimization only: durability still comes from Commit's fsync.
func (u *Upload) startWriteback() {
	_ = unix.SyncFileRange(int(u.f.Fd()), u.flushed, u.size-u.flushed, unix.SYNC_FILE_RANGE_WRITE)
	u.flushed = u.size
}
