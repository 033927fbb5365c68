package elbproxy

import (
	"bufio"
	"bytes"
	"net/http"
	"net/netip"

	"golang.org/x/net/http/httpguts"
)

// rawReq is a client's request header parsed in place in the connection's
// read buffer (valid until that buffer is read on). The fast path uses it
// when the listener has no rule but the default one and its forward has
// no group stickiness: nothing then needs the request as an
// *http.Request, and the header's fields are copied through as they are.
type rawReq struct {
	method []byte
	uri    []byte
	host   []byte
	fields []byte // the header lines after the request line
	size   int    // bytes of the whole header in the buffer
	conn   connFields
	trace  []byte // X-Amzn-Trace-Id
	xff    bool   // has X-Forwarded-For
	te     bool   // TE names trailers
	cookie bool   // has Cookie
	secure bool   // came over TLS (an HTTPS listener)
}

// parseRequest parses a request header the way net/http would accept it
// for the fast path; false leaves it to http.ReadRequest (and maybe the
// hand-over): anything but HTTP/1.1, an origin-form target, one valid
// Host and valid fields without a body, Upgrade, Expect or folding.
func parseRequest(head []byte) (rawReq, bool) {
	var r rawReq
	line, rest := nextLine(head)
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return r, false
	}
	r.method = line[:sp]
	line = line[sp+1:]
	sp = bytes.IndexByte(line, ' ')
	if sp <= 0 || string(line[sp+1:]) != "HTTP/1.1" {
		return r, false
	}
	r.uri = line[:sp]
	if r.uri[0] != '/' || string(r.method) == http.MethodConnect || string(r.method) == "PRI" {
		return r, false
	}
	for _, c := range r.method {
		if !httpguts.IsTokenRune(rune(c)) {
			return r, false
		}
	}
	for _, c := range r.uri {
		if c <= ' ' || c == 0x7f {
			return r, false
		}
	}
	r.fields = rest
	hosts := 0
	for f := (fieldScan{rest: rest}); f.next(); {
		name, value := f.name, f.value
		if !f.valid || !validValue(value) {
			return r, false
		}
		switch {
		case foldEq(name, "host"):
			hosts++
			r.host = value
		case foldEq(name, "content-length"), foldEq(name, "transfer-encoding"), foldEq(name, "upgrade"), foldEq(name, "expect"):
			return r, false
		case foldEq(name, "connection"):
			if !r.conn.add(value) {
				return r, false
			}
		case foldEq(name, "x-amzn-trace-id"):
			if r.trace != nil {
				return r, false
			}
			r.trace = value
		case foldEq(name, "x-forwarded-for"):
			r.xff = true
		case foldEq(name, "te"):
			r.te = r.te || httpguts.HeaderValuesContainsToken([]string{string(value)}, "trailers")
		case foldEq(name, "cookie"):
			r.cookie = true
		}
	}
	if hosts != 1 || len(r.host) == 0 || !httpguts.ValidHostHeader(string(r.host)) {
		return r, false
	}
	return r, true
}

// validValue reports whether v is a valid field value (no control
// characters but tab).
func validValue(v []byte) bool {
	for _, c := range v {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// request is the little of the request the rest of the fast path reads:
// method, Close and the cookies.
func (r *rawReq) request() *http.Request {
	req := &http.Request{Method: string(r.method), Close: r.conn.close, Header: http.Header{}}
	if r.cookie {
		for f := (fieldScan{rest: r.fields}); f.next(); {
			if f.valid && foldEq(f.name, "cookie") {
				req.Header.Add("Cookie", string(f.value))
			}
		}
	}
	return req
}

// dropped reports whether a client's field is not forwarded as it is:
// hop by hop, named by Connection, or one the ALB sets.
func (r *rawReq) dropped(name []byte) bool {
	switch {
	case foldEq(name, "host"), foldEq(name, "connection"), foldEq(name, "proxy-connection"), foldEq(name, "keep-alive"),
		foldEq(name, "proxy-authenticate"), foldEq(name, "proxy-authorization"), foldEq(name, "te"),
		foldEq(name, "trailer"), foldEq(name, "x-forwarded-for"), foldEq(name, "x-forwarded-host"),
		foldEq(name, "x-forwarded-proto"), foldEq(name, "x-forwarded-port"), foldEq(name, "x-amzn-trace-id"):
		return true
	}
	return r.conn.names(name)
}

// write writes the request as the ALB forwards it (as writeTargetRequest).
func (r *rawReq) write(bw *bufio.Writer, client netip.Addr, port int) {
	bw.Write(r.method)
	bw.WriteByte(' ')
	bw.Write(r.uri)
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.Write(r.host)
	bw.WriteString("\r\n")
	for f := (fieldScan{rest: r.fields}); f.next(); {
		if !r.dropped(f.name) {
			f.write(bw)
		}
	}
	if r.te {
		bw.WriteString("Te: trailers\r\n")
	}
	bw.WriteString("X-Forwarded-For: ")
	if r.xff {
		for f := (fieldScan{rest: r.fields}); f.next(); {
			if f.valid && foldEq(f.name, "x-forwarded-for") {
				bw.Write(f.value)
				bw.WriteString(", ")
			}
		}
	}
	writeAdded(bw, client, port, r.secure, string(r.trace))
}
