package elbproxy

import (
	"bufio"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// forward sends req to a target of f and its answer to the client, on the
// fast path. It returns false when the connection must close.
// raw, when set, is req's header in place (req then carries only the
// method, Close and the cookies).
func (fc *fastConn) forward(req *http.Request, raw *rawReq, f *forwardAction, rt *albRoutes) bool {
	start := time.Now()
	t, cookies := fc.s.choose(req, f, start)
	if t == nil {
		if raw != nil {
			fc.br.Discard(raw.size)
		}
		rt.elb5xx()
		return fc.errorPage(req, http.StatusServiceUnavailable)
	}
	t.outstanding.Add(1)
	defer t.outstanding.Add(-1)
	pc, err := fc.s.tr.fastExchange(t, req, raw, fc.client, rt.port)
	if raw != nil {
		fc.br.Discard(raw.size) // written (or never will be): its bytes may go
	}
	var h rawHead
	var resp *http.Response
	if err == nil {
		var ok bool
		if h, ok, err = readHead(pc.br); err == nil && !ok {
			resp, err = readResponse(pc.br, req) // a head the fast parser leaves to net/http
		}
		if err != nil {
			pc.close()
		}
	}
	if err != nil {
		rt.elb5xx()
		if isTimeout(err) {
			return fc.errorPage(req, http.StatusGatewayTimeout)
		}
		return fc.errorPage(req, http.StatusBadGateway)
	}
	code := h.code
	if resp != nil {
		code = resp.StatusCode
	}
	took := time.Since(start)
	t.g.stats.targetResponse(code, took)
	if rt.stats != nil {
		rt.stats.targetResponse(code, took)
	}
	if resp != nil {
		return fc.relay(req, resp, pc, cookies)
	}
	return fc.relayRaw(req, &h, pc, cookies)
}

// choose picks the target of a forward and the stickiness cookies to set;
// nil when no group or target can take the request (503).
func (s *albServer) choose(r *http.Request, f *forwardAction, now time.Time) (*target, []*http.Cookie) {
	stickyGroup := ""
	if f.stickiness > 0 {
		if c, err := r.Cookie(cookieGroup); err == nil {
			stickyGroup = c.Value
		}
	}
	g := f.pickGroup(stickyGroup)
	if g == nil {
		return nil, nil
	}
	g.stats.requests.Add(1)
	stick := g.stickiness()
	var want TargetKey
	if stick.Enabled {
		want = parseTargetCookie(r, g.id)
	}
	t := g.pick(want)
	if t == nil {
		return nil, nil
	}
	var cookies []*http.Cookie
	if f.stickiness > 0 {
		cookies = append(cookies, &http.Cookie{Name: cookieGroup, Value: g.id, Path: "/", Expires: now.Add(f.stickiness)})
	}
	if stick.Enabled {
		d := stick.Duration
		if d <= 0 {
			d = 24 * time.Hour
		}
		cookies = append(cookies, &http.Cookie{Name: cookieTarget, Value: targetCookie(g.id, t.key), Path: "/", Expires: now.Add(d)})
	}
	return t, cookies
}

// fastExchange writes req to a pooled connection to tg and waits for the
// first byte of the answer. A pooled connection the target closed while
// idle is replaced once for an idempotent method.
func (t *directTransport) fastExchange(tg *target, req *http.Request, raw *rawReq, client netip.Addr, port int) (*pconn, error) {
	for attempt := 0; ; attempt++ {
		pc, reused, err := t.get(tg.ctx, tg)
		if err != nil {
			return nil, err
		}
		err = t.fastSend(pc, req, raw, client, port)
		if err == nil {
			return pc, nil
		}
		pc.close()
		if reused && attempt == 0 && idempotent(req.Method) && tg.ctx.Err() == nil && errors.Is(err, errStale) {
			continue
		}
		return nil, unwrapStale(err)
	}
}

func (t *directTransport) fastSend(pc *pconn, req *http.Request, raw *rawReq, client netip.Addr, port int) error {
	pc.conn.SetReadDeadline(time.Now().Add(t.timeout)) // a small request's write does not block
	if raw != nil {
		raw.write(pc.bw, client, port)
	} else {
		writeTargetRequest(pc.bw, req, client, port)
	}
	if err := pc.bw.Flush(); err != nil {
		return staleError{err}
	}
	if _, err := pc.br.Peek(1); err != nil {
		if isTimeout(err) {
			return err
		}
		return staleError{err}
	}
	return nil
}

// readResponse reads an answer's header with net/http, 1xx answers skipped.
func readResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	for {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return nil, err
		}
		switch {
		case resp.StatusCode == http.StatusSwitchingProtocols:
			return nil, errors.New("101 Switching Protocols without Upgrade")
		case resp.StatusCode < 200:
			continue // informational: not forwarded
		}
		return resp, nil
	}
}

// writeTargetRequest writes req as the ALB forwards it: hop-by-hop fields
// dropped, X-Forwarded-For/-Proto/-Port and X-Amzn-Trace-Id set.
func writeTargetRequest(bw *bufio.Writer, req *http.Request, client netip.Addr, port int) {
	bw.WriteString(req.Method)
	bw.WriteByte(' ')
	bw.WriteString(req.RequestURI)
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(req.Host)
	bw.WriteString("\r\n")
	conn := req.Header["Connection"]
	for k, vv := range req.Header {
		switch k {
		case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te",
			"Trailer", "Transfer-Encoding", "Upgrade", "Content-Length",
			"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Amzn-Trace-Id":
			continue
		}
		if len(conn) > 0 && connListed(conn, k) {
			continue
		}
		for _, v := range vv {
			writeField(bw, k, v)
		}
	}
	if httpguts.HeaderValuesContainsToken(req.Header["Te"], "trailers") {
		bw.WriteString("Te: trailers\r\n")
	}
	bw.WriteString("X-Forwarded-For: ")
	for _, v := range req.Header["X-Forwarded-For"] {
		bw.WriteString(v)
		bw.WriteString(", ")
	}
	writeAdded(bw, client, port, req.TLS != nil, req.Header.Get("X-Amzn-Trace-Id"))
}

// writeAdded ends a forwarded request's header with the fields the ALB
// adds, after "X-Forwarded-For: " and the prior values; secure: the
// client came over TLS.
func writeAdded(bw *bufio.Writer, client netip.Addr, port int, secure bool, priorTrace string) {
	bw.Write(client.AppendTo(bw.AvailableBuffer()))
	if secure {
		bw.WriteString("\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Port: ")
	} else {
		bw.WriteString("\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: ")
	}
	bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(port), 10))
	bw.WriteString("\r\nX-Amzn-Trace-Id: ")
	if strings.Contains(priorTrace, "Root=") {
		bw.WriteString("Self=")
		bw.Write(appendTraceID(bw.AvailableBuffer()))
		bw.WriteByte(';')
		bw.WriteString(priorTrace)
	} else {
		bw.WriteString("Root=")
		bw.Write(appendTraceID(bw.AvailableBuffer()))
	}
	bw.WriteString("\r\n\r\n")
}

func writeField(bw *bufio.Writer, k, v string) {
	bw.WriteString(k)
	bw.WriteString(": ")
	bw.WriteString(v)
	bw.WriteString("\r\n")
}

// connListed reports whether the Connection field values name field k.
func connListed(conn []string, k string) bool {
	for _, v := range conn {
		for v != "" {
			var tok string
			tok, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(tok), k) {
				return true
			}
		}
	}
	return false
}

// relay writes the target's answer to the client and returns the target
// connection to the pool once its body is read to the end. It returns
// false when the client connection must close.
func (fc *fastConn) relay(req *http.Request, resp *http.Response, pc *pconn, cookies []*http.Cookie) bool {
	bw := fc.bw
	code := resp.StatusCode
	writeStatusLine(bw, code)
	noBody := req.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified
	chunked := !noBody && resp.ContentLength < 0
	conn := resp.Header["Connection"]
	hasDate := false
	for k, vv := range resp.Header {
		switch k {
		case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te",
			"Trailer", "Transfer-Encoding", "Upgrade":
			continue
		case "Content-Length":
			if !noBody {
				continue // written below
			}
		case "Date":
			hasDate = true
		}
		if len(conn) > 0 && connListed(conn, k) {
			continue
		}
		for _, v := range vv {
			writeField(bw, k, v)
		}
	}
	if chunked && len(resp.Trailer) > 0 {
		keys := make([]string, 0, len(resp.Trailer))
		for k := range resp.Trailer {
			keys = append(keys, k)
		}
		writeField(bw, "Trailer", strings.Join(keys, ", "))
	}
	endAnswerHead(bw, cookies, hasDate, chunked, noBody, resp.ContentLength, req.Close)

	var werr, rerr error
	switch {
	case noBody:
		rerr = drainEOF(resp.Body)
	case chunked:
		werr, rerr = fc.copyChunked(resp, pc)
	default:
		werr, rerr = fc.copyLength(resp, pc)
	}
	resp.Body.Close()
	if rerr == nil && !resp.Close {
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

// drainEOF reads what is left of a body that should have nothing left.
func drainEOF(r io.Reader) error {
	var b [1]byte
	if n, err := r.Read(b[:]); n == 0 && err == io.EOF {
		return nil
	} else if err != nil && err != io.EOF {
		return err
	}
	return errors.New("unexpected body")
}

// copyLength copies a body of known length; the errors are the client's
// (write) and the target's (read, nil only when read to its end).
func (fc *fastConn) copyLength(resp *http.Response, pc *pconn) (werr, rerr error) {
	left, werr, rerr := fc.copyUpTo(pc, resp.Body, resp.ContentLength)
	if left > 0 {
		if rerr == nil || rerr == io.EOF {
			rerr = io.ErrUnexpectedEOF
		}
		return werr, rerr
	}
	if rerr == io.EOF {
		rerr = nil
	}
	if rerr == nil {
		rerr = drainEOF(resp.Body)
	}
	return werr, rerr
}

// copyChunked copies a body of unknown length as chunks, each flushed to
// the client as it arrives (streaming), then the trailers.
func (fc *fastConn) copyChunked(resp *http.Response, pc *pconn) (werr, rerr error) {
	bw := fc.bw
	pc.conn.SetReadDeadline(time.Time{})
	if werr, rerr = fc.writeChunks(resp.Body); rerr != io.EOF || werr != nil {
		return werr, rerr
	}
	bw.WriteString("0\r\n")
	for k, vv := range resp.Trailer {
		for _, v := range vv {
			writeField(bw, k, v)
		}
	}
	_, werr = bw.WriteString("\r\n")
	return werr, nil
}

// endAnswerHead ends the header of an answer to the client, after the
// target's fields: the stickiness cookies, a Date when the target gave
// none, the framing (chunked, else Content-Length length unless the
// answer has no body) and Connection: close when the client's connection
// closes after it.
func endAnswerHead(bw *bufio.Writer, cookies []*http.Cookie, hasDate, chunked, noBody bool, length int64, closing bool) {
	for _, c := range cookies {
		writeField(bw, "Set-Cookie", c.String())
	}
	if !hasDate {
		bw.WriteString("Date: ")
		bw.Write(time.Now().UTC().AppendFormat(bw.AvailableBuffer(), http.TimeFormat))
		bw.WriteString("\r\n")
	}
	switch {
	case chunked:
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	case !noBody:
		bw.WriteString("Content-Length: ")
		bw.Write(strconv.AppendInt(bw.AvailableBuffer(), length, 10))
		bw.WriteString("\r\n")
	}
	if closing {
		bw.WriteString("Connection: close\r\n")
	}
	bw.WriteString("\r\n")
}

// copyUpTo copies up to n bytes of body from r (the target connection
// pc's buffer or a reader over it) to the client, until a read or write
// fails; left is what was not copied. The errors are the client's
// (write) and the target's (read).
func (fc *fastConn) copyUpTo(pc *pconn, r io.Reader, n int64) (left int64, werr, rerr error) {
	bw := fc.bw
	if n > int64(pc.br.Buffered()) {
		pc.conn.SetReadDeadline(time.Time{}) // the body may take longer than the answer's header
	}
	var big []byte
	for n > 0 && werr == nil && rerr == nil {
		var k int
		if n <= int64(bw.Available()) {
			b := bw.AvailableBuffer() // straight into the client's buffer
			k, rerr = r.Read(b[:n])
			_, werr = bw.Write(b[:k])
		} else {
			if big == nil {
				big = fc.s.p.bufs.Get()
				defer fc.s.p.bufs.Put(big)
			}
			k, rerr = r.Read(big[:min(int64(len(big)), n)])
			_, werr = bw.Write(big[:k])
		}
		n -= int64(k)
	}
	return n, werr, rerr
}

func writeStatusLine(bw *bufio.Writer, code int) {
	bw.WriteString("HTTP/1.1 ")
	bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(code), 10))
	bw.WriteByte(' ')
	if text := http.StatusText(code); text != "" {
		bw.WriteString(text)
	} else {
		bw.WriteString("status code ")
		bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(code), 10))
	}
	bw.WriteString("\r\n")
}

// errorPage answers with ALB's own error page on the fast path.
func (fc *fastConn) errorPage(req *http.Request, code int) bool {
	bw := fc.bw
	body := errorBody(code)
	writeStatusLine(bw, code)
	bw.WriteString("Server: awselb/2.0\r\nContent-Type: text/html\r\nContent-Length: ")
	bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(len(body)), 10))
	bw.WriteString("\r\nDate: ")
	bw.Write(time.Now().UTC().AppendFormat(bw.AvailableBuffer(), http.TimeFormat))
	bw.WriteString("\r\n")
	if req.Close {
		bw.WriteString("Connection: close\r\n")
	}
	bw.WriteString("\r\n")
	if req.Method != http.MethodHead {
		bw.WriteString(body)
	}
	return bw.Flush() == nil && !req.Close
}

// appendTraceID appends a new trace root, 1-<epoch seconds, 8 hex>-<96
// random bits, 24 hex>, to b.
func appendTraceID(b []byte) []byte {
	b = append(b, "1-"...)
	b = appendHex(b, uint64(time.Now().Unix()), 8)
	b = append(b, '-')
	b = appendHex(b, uint64(rand.Uint32()), 8)
	return appendHex(b, rand.Uint64(), 16)
}
