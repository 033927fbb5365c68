package registry

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"testing"

	"github.com/berth-dev/berth/internal/registry/digest"
)

const benchBlobSize = 8 << 20

// BenchmarkPush measures monolithic blob uploads (POST ?digest=) over
// loopback HTTP: hashing, the disk write, fsync and the link Txn.
func BenchmarkPush(b *testing.B) {
	e := newTestEnv(b, nil)
	createRepo(b, e.st, "bench", false)
	buf, _ := randBlob(b, benchBlobSize)
	b.SetBytes(benchBlobSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		binary.BigEndian.PutUint64(buf, uint64(i)) // a new blob each time
		d := digest.FromBytes(digest.SHA256, buf)
		b.StartTimer()
		res, err := http.Post(e.url+"/v2/bench/blobs/uploads/?digest="+string(d), "application/octet-stream", bytes.NewReader(buf))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			b.Fatalf("push: %d", res.StatusCode)
		}
	}
}

// BenchmarkPull measures blob downloads over loopback HTTP.
func BenchmarkPull(b *testing.B) {
	e := newTestEnv(b, nil)
	createRepo(b, e.st, "bench", false)
	buf, _ := randBlob(b, benchBlobSize)
	d := e.pushBlob(b, "bench", buf)
	b.SetBytes(benchBlobSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := http.Get(e.url + "/v2/bench/blobs/" + d)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || n != benchBlobSize {
			b.Fatalf("pull: %d, %d bytes", res.StatusCode, n)
		}
	}
}
