package ecsstore

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
)

// TestScanTaskHeaderTakesBerthRecords: the records berth writes take the
// scanner, not the encoding/json fallback (which would be correct but
// slow), and it reads them as encoding/json does.
func TestScanTaskHeaderTakesBerthRecords(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("testdata", "records", "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	filled := new(ecs.Task)
	n := 0
	fill(reflect.ValueOf(filled).Elem(), &n)
	for _, rec := range [][]byte{
		encodeTask(sampleTask(testScope, "c", "0123456789abcdef0123456789abcdef")),
		encodeTask(benchTask()),
		encodeTask(goldenTask()),
		encodeTask(filled),
		golden, // indented
	} {
		var got, want TaskHeader
		if !scanTaskHeader(rec, &got) {
			t.Errorf("not scanned: %s", rec)
			continue
		}
		if err := json.Unmarshal(rec, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("scanned %+v, encoding/json %+v", got, want)
		}
	}
}

// TestScanTaskHeaderDeclines: what the scanner cannot read as
// encoding/json would goes to the fallback, which still decodes it.
func TestScanTaskHeaderDeclines(t *testing.T) {
	for _, rec := range []string{
		`{"taskArn":"a\"b"}`,                 // an escape in a header value
		`{"TaskArn":"x"}`,                    // a case-folded header name
		`{"taskArn":null}`,                   // not a string
		`{"lastStatus":"RUNNING"} x`,         // trailing bytes
		`{"containers":[{"a":1}],"taskArn"}`, // malformed
		`{"stoppedAt":"yesterday"}`,
		"{\"group\":\"\xff\"}",
		`[]`, ``,
	} {
		var h TaskHeader
		if scanTaskHeader([]byte(rec), &h) {
			t.Errorf("scanned %s: %+v", rec, h)
		}
	}
}

func FuzzTaskHeader(f *testing.F) {
	f.Add(encodeTask(sampleTask(testScope, "c", "0123456789abcdef0123456789abcdef")))
	f.Add(encodeTask(benchTask()))
	f.Add([]byte(`{"taskArn":"a","containers":[{"x":[1,-2.5e3,true,null,{"y":"\"}"}]}],"group":"g","stoppedAt":"2024-01-02T03:04:05.5Z"}`))
	f.Add([]byte(` { "startedBy" : "s" , "GROUP":"g" } `))
	f.Fuzz(func(t *testing.T, b []byte) {
		var want TaskHeader
		jsonErr := json.Unmarshal(b, &want)
		var got TaskHeader
		if !scanTaskHeader(b, &got) {
			return // the fallback is encoding/json itself
		}
		// What the scanner reads, it reads as encoding/json does; it may
		// take a record encoding/json rejects only in what it skips.
		if jsonErr == nil && got != want {
			t.Fatalf("%q: scanned %+v, encoding/json %+v", b, got, want)
		}
	})
}
