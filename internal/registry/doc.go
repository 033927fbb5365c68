// Package registry is berth's OCI distribution registry (distribution-spec
// v1.1): the /v2/ API that docker, containerd, skopeo, crane and friends
// push to and pull from, backed by content-addressed blob files on disk
// (package blobstore) and metadata in the state store (store.Store). It is
// also the image layer of the ECR emulation: the ECR control plane
// (internal/ecrapi) calls its Go methods for ListImages, BatchGetImage,
// PutImage, BatchDeleteImage, BatchCheckLayerAvailability and the
// layer-upload actions.
//
// One Registry serves one account and region (Config.Account/Region); its
// metadata lives under /ecr/<account>/<region>/ (see ecr.Keys) and its
// blobs under Config.BlobRoot, which no other Registry may share.
//
// # Metadata
//
//	repos/<repo>                          written by the ECR control plane; read here
//	images/<repo>/<digest>                manifest record: JSON header + the manifest bytes
//	tags/<repo>/<tag>                     tag → digest
//	layers/<repo>/<digest>                blob link: <repo> may serve the blob
//	referrers/<repo>/<subject>/<digest>   referrers index entry (a descriptor)
//	blobs/<digest>                        blob record: the file exists and is known
//
// A manifest record lists the blobs it references (config and
// distributable layers) and the child manifests of an index, and the tags
// that point at it: tag key T → D iff D's record lists T, and both change
// in one Txn, so deleting an image deletes exactly its tags. Every write
// is a compare-and-swap Txn on the revisions it read, retried on conflict.
//
// Pushing requires the repository to exist (NAME_UNKNOWN otherwise, as in
// ECR) unless Config.AutoCreateRepositories is set. A manifest put checks
// that every referenced blob is linked in the repository and present on
// disk (MANIFEST_BLOB_UNKNOWN), that the children of an index exist in the
// repository, that descriptor sizes match, and, for a repository with
// IMMUTABLE tags, that no existing tag moves (TAG_INVALID with ECR's
// message). Manifests of Docker schema 2 (manifest and list) and OCI
// (manifest and index, with artifactType and subject) are accepted;
// schema 1 is not. A manifest is served with the media type it was pushed
// with, whatever the Accept header says (no format conversion).
//
// # Blobs and uploads
//
// Uploads stream into <BlobRoot>/uploads/<uuid> with the digest computed
// as the bytes arrive (by a second goroutine, which may finish a chunk's
// last MiBs after its 202); the final PUT verifies it, fsyncs and renames
// the file into <BlobRoot>/blobs/<alg>/<xx>/<hex>. Nothing buffers a blob in memory and
// the handler lifts the server's read/write deadlines on blob transfers,
// so a slow upload or download is never cut off by a request timeout.
// Upload sessions survive a restart (the partial file is re-hashed on
// first use); idle ones are purged after Config.UploadTTL.
//
// DELETE of a blob removes the repository's link only; the bytes go when
// the garbage collector finds them unreferenced.
//
// Servers that share a store share the metadata but not the BlobRoot:
// with Config.FetchBlob set, a blob that a repository links (so some
// server received it) but whose file this registry lacks is fetched
// (package peer), verified against its digest and kept as this
// registry's own file before it is served, mounted or counted as present
// by a manifest put. A failed fetch is BLOB_UNKNOWN. OpenLocalBlob serves
// the peers from this registry's files only.
//
// # Garbage collection
//
// GarbageCollect runs online, with pushes and pulls going on. It deletes a
// blob (file, blob record, and the remaining links) only if no manifest of
// any repository references it and nothing made it reachable within
// Config.GCGracePeriod. Safety, i.e. "a manifest whose put succeeded never
// loses a blob, and a blob whose link was written is never deleted behind
// the writer's back", rests on three mechanisms:
//
//  1. Touch. Every write that makes a blob reachable (creating a link in
//     an upload, mount or ECR layer upload; putting a new manifest that
//     references it) rewrites the blob record blobs/<digest> in the same
//     Txn as the link or manifest, which gives the record a new
//     ModRevision.
//
//  2. Revision-checked sweep. The mark phase lists, in this order, the
//     blob records (remembering each ModRevision), the links, and then
//     every manifest record (collecting the referenced digests), and walks
//     the blob files. A blob is a candidate if no listed manifest
//     references it and its record, links and file are all older than the
//     grace period. The sweep deletes a candidate's record and links in one
//     Txn that compares the record's ModRevision (0: "still absent") and
//     each link's ModRevision with the values marked. Any reference made
//     after the records were listed touched the record, so its Txn fails
//     and the blob is kept; any reference made before was committed before
//     the manifests were listed, so the blob was not a candidate (unless
//     that manifest was deleted since, which only removes a reference).
//
//  3. Pins. The store is not transactional with the filesystem, so the
//     check "the file exists" and the deletion of the file are serialized
//     per digest in the blob store: a writer holds a shared pin
//     (blobstore.Pin) from its existence check through the commit of its
//     Txn, and the sweep holds the exclusive lock (blobstore.Exclusive) from
//     its Txn through the file deletion. Hence either the writer's Txn
//     commits before the sweep's Txn (which then fails, by 2), or the
//     sweep has deleted record, links and file before the writer checks:
//     a manifest put then finds no link and fails with
//     MANIFEST_BLOB_UNKNOWN (the client re-pushes the layer), and an
//     upload commit finds no file and renames its own verified upload into
//     place. A crash between the sweep's Txn and the file deletion leaves a
//     file without a record, which the next run deletes the same way.
//
// The grace period is what keeps a push in progress (layers uploaded,
// manifest not yet put) from losing its layers; correctness does not
// depend on it, only the client's experience (TestGCStress runs pushes
// against a GC with no grace period at all). Uploads in progress are
// separate files and never candidates. Manifests themselves are not
// collected: untagged images stay until deleted (ECR lifecycle policies
// do that).
//
// # HTTP API
//
// Handler (the Registry is itself an http.Handler) serves /v2/: ping,
// blobs (GET/HEAD with Range, DELETE), uploads (POST monolithic with
// ?digest=, resumable sessions, cross-repository ?mount=&from= falling
// back to a session, PATCH chunks with Content-Range checks answering 416
// when out of order, PUT with an optional last chunk, GET status, DELETE),
// manifests (GET/HEAD/PUT/DELETE by tag or sha256/sha512 digest, PUT
// ?tag= parameters, OCI-Subject), tags/list and _catalog with n/last
// pagination and Link headers, and referrers with ?artifactType=. Errors
// are the spec's {"errors":[{"code","message","detail"}]}.
// Repository names may contain '/': paths are parsed from their end.
// Every request asks the Authorizer; ErrUnauthenticated becomes 401 with
// ECR's Basic challenge, any other refusal 403 DENIED.
//
// Go methods return *Error, which carries the OCI code and status and
// unwraps to a *fault.Error whose Code is the ECR exception name
// (RepositoryNotFoundException, ImageNotFoundException,
// LayersNotFoundException, UploadNotFoundException,
// InvalidLayerPartException, InvalidLayerException,
// ImageTagAlreadyExistsException, ImageDigestDoesNotMatchException,
// ReferencedImagesNotFoundException, ...).
package registry
