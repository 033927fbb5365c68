package elbproxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"strconv"
	"time"
)

// rawHead is a target's answer header parsed in place in the target
// connection's read buffer (valid until that buffer is read on).
type rawHead struct {
	code    int
	fields  []byte // the header lines after the status line
	size    int    // bytes of the whole header in the buffer
	length  int64  // Content-Length, -1 when absent
	chunked bool
	hasDate bool
	conn    connFields
}

// readHead reads the answer's header (1xx answers skipped) without
// copying it. ok is false when the fast parser leaves the header to
// net/http: larger than the buffer, HTTP/1.0, folded or unusual fields,
// a transfer coding other than chunked, conflicting lengths.
func readHead(br *bufio.Reader) (rawHead, bool, error) {
	for {
		buf, _ := br.Peek(br.Buffered())
		end := headerEnd(buf)
		if end == 0 {
			if br.Buffered() >= br.Size() {
				return rawHead{}, false, nil
			}
			if _, err := br.Peek(br.Buffered() + 1); err != nil {
				return rawHead{}, false, err
			}
			continue
		}
		h, ok := parseHead(buf[:end])
		switch {
		case !ok:
			return h, false, nil
		case h.code == http.StatusSwitchingProtocols:
			return h, false, errors.New("101 Switching Protocols without Upgrade")
		case h.code < 200:
			br.Discard(end) // informational: not forwarded
			if _, err := br.Peek(1); err != nil {
				return rawHead{}, false, err
			}
			continue
		}
		h.size = end
		return h, true, nil
	}
}

func parseHead(head []byte) (rawHead, bool) {
	h := rawHead{length: -1}
	status, rest := nextLine(head)
	if len(status) < 12 || !bytes.HasPrefix(status, []byte("HTTP/1.1 ")) || (len(status) > 12 && status[12] != ' ') {
		return h, false
	}
	for _, c := range status[9:12] {
		if c < '0' || c > '9' {
			return h, false
		}
		h.code = h.code*10 + int(c-'0')
	}
	if h.code < 100 {
		return h, false
	}
	h.fields = rest
	for f := (fieldScan{rest: rest}); f.next(); {
		name, value := f.name, f.value
		if !f.valid {
			return h, false
		}
		switch {
		case foldEq(name, "content-length"):
			n, err := strconv.ParseUint(string(value), 10, 63)
			if err != nil || (h.length >= 0 && h.length != int64(n)) {
				return h, false
			}
			h.length = int64(n)
		case foldEq(name, "transfer-encoding"):
			if h.chunked || !foldEq(value, "chunked") {
				return h, false
			}
			h.chunked = true
		case foldEq(name, "connection"):
			if !h.conn.add(value) {
				return h, false
			}
		case foldEq(name, "date"):
			h.hasDate = true
		}
	}
	if h.chunked && h.length >= 0 {
		return h, false
	}
	return h, true
}

// hopField reports whether a field of the answer is not forwarded: hop by
// hop, named by Connection, or the framing berth writes itself.
func (h *rawHead) hopField(name []byte, noBody bool) bool {
	switch {
	case foldEq(name, "connection"), foldEq(name, "proxy-connection"), foldEq(name, "keep-alive"),
		foldEq(name, "proxy-authenticate"), foldEq(name, "proxy-authorization"), foldEq(name, "te"),
		foldEq(name, "transfer-encoding"), foldEq(name, "upgrade"):
		return true
	case foldEq(name, "content-length"):
		return !noBody
	}
	return h.conn.names(name)
}

// relayRaw writes the target's answer (its header still in the target
// connection's buffer) to the client, and returns the target connection
// to the pool once its body is read to the end. It returns false when
// the client connection must close.
func (fc *fastConn) relayRaw(req *http.Request, h *rawHead, pc *pconn, cookies []*http.Cookie) bool {
	bw := fc.bw
	writeStatusLine(bw, h.code)
	noBody := req.Method == http.MethodHead || h.code == http.StatusNoContent || h.code == http.StatusNotModified
	toEOF := !noBody && !h.chunked && h.length < 0 // the body ends when the target closes
	for f := (fieldScan{rest: h.fields}); f.next(); {
		if !h.hopField(f.name, noBody) {
			f.write(bw)
		}
	}
	endAnswerHead(bw, cookies, h.hasDate, h.chunked || toEOF, noBody, h.length, req.Close)
	pc.br.Discard(h.size) // the header is written: its bytes may go

	var werr, rerr error // the client's and the target's
	switch {
	case noBody:
	case h.chunked:
		werr, rerr = fc.rechunk(httputil.NewChunkedReader(pc.br), pc, true)
	case toEOF:
		werr, rerr = fc.rechunk(pc.br, pc, false)
	default:
		werr, rerr = fc.copyN(pc, h.length)
	}
	if rerr == nil && !h.conn.close && !toEOF {
		fc.s.tr.put(pc)
	} else {
		pc.close()
	}
	if werr == nil {
		werr = bw.Flush()
	}
	// A target that failed in the body: the client's answer is cut short.
	return werr == nil && rerr == nil && !req.Close
}

// copyN copies n bytes of body from the target connection to the client;
// the errors are the client's (write) and the target's (read).
func (fc *fastConn) copyN(pc *pconn, n int64) (werr, rerr error) {
	left, werr, rerr := fc.copyUpTo(pc, pc.br, n)
	if left > 0 && (rerr == nil || rerr == io.EOF) {
		rerr = io.ErrUnexpectedEOF
	}
	return werr, rerr
}

// rechunk copies body to the client as chunks, each flushed as it arrives
// (streaming); with trailers, the target's trailer fields follow the
// body in pc's buffer and are forwarded.
func (fc *fastConn) rechunk(body io.Reader, pc *pconn, trailers bool) (werr, rerr error) {
	bw := fc.bw
	pc.conn.SetReadDeadline(time.Time{})
	if werr, rerr = fc.writeChunks(body); rerr != io.EOF || werr != nil {
		return werr, rerr
	}
	rerr = nil
	bw.WriteString("0\r\n")
	for trailers {
		line, err := pc.br.ReadSlice('\n')
		if err != nil {
			return werr, err
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			break
		}
		if _, _, ok := splitField(bytes.TrimRight(line, "\r\n")); !ok {
			return werr, errors.New("malformed trailer")
		}
		bw.Write(bytes.TrimRight(line, "\r\n"))
		bw.WriteString("\r\n")
	}
	_, werr = bw.WriteString("\r\n")
	return werr, rerr
}

// writeChunks copies body to the client as chunks, each flushed as it
// arrives (streaming), until a read or write fails; rerr is io.EOF at the
// body's end. The last chunk and trailers are the caller's.
func (fc *fastConn) writeChunks(body io.Reader) (werr, rerr error) {
	bw := fc.bw
	buf := fc.s.p.bufs.Get()
	defer fc.s.p.bufs.Put(buf)
	for werr == nil {
		var n int
		n, rerr = body.Read(buf)
		if n > 0 {
			bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(n), 16))
			bw.WriteString("\r\n")
			bw.Write(buf[:n])
			bw.WriteString("\r\n")
			werr = bw.Flush()
		}
		if rerr != nil {
			break
		}
	}
	return werr, rerr
}
