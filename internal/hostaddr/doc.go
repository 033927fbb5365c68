// Package hostaddr reserves load balancer addresses (in 127.0.0.0/8)
// host-wide, so that two berth servers on one host, each with its own data
// directory, never give their load balancers the same address.
//
// A reservation is a file named by the address in a directory shared by
// every berth on the host (default: os.TempDir()/berth-lb-addresses); it
// holds the owner (the data directory's identity) and the data directory.
// Reserve and Release take a host-wide lock (flock on the directory's
// .lock file) for the moment they read and write. A reservation outlives
// its server's process, so a stopped server keeps its addresses; it is
// void once its data directory is gone (a removed test or scratch
// directory frees its addresses). An address on which any process
// listens is never reserved for another owner, so a berth of an older
// version (or anything else) holding an address is respected too.
//
//	r := hostaddr.New(hostaddr.Config{Owner: owner, DataDir: dir})
//	ok, err := r.Reserve(addr) // true: addr is this owner's now (or was already)
//	r.Release(addr)            // the load balancer is gone
package hostaddr
