// Package peer lets the berth servers that share one store serve each
// other's registry blobs. Blob bytes live in each server's data directory
// (package blobstore) while the metadata that says a blob exists is in the
// shared store, so a server can be asked for a blob that another server
// received. Each server advertises the address its peers reach it at in
// the store (Directory: /meta/registry-peers/<identity>); a server that
// lacks a blob fetches it from the peers (Client.Fetch), verifies its
// digest and keeps it as its own copy; a server answers its peers from its
// own files only (Handler), so a fetch never recurses. Peer requests carry
// a short-lived HMAC under the key the servers share for ECR tokens.
package peer
