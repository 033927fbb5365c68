package elbproxy

import (
	"bufio"
	"bytes"

	"golang.org/x/net/http/httpguts"
)

// fieldScan walks the fields of an HTTP header held in place (a request's
// or an answer's, after its first line), one field a call to next, up to
// the empty line that ends the header. The raw request and answer
// parsers (rawreq.go, rawhead.go) and their writers share it.
type fieldScan struct {
	rest        []byte
	name, value []byte // the current field; value trimmed
	valid       bool   // the current line is a valid field (see splitField)
}

// next moves to the next field; false at the end of the header.
func (s *fieldScan) next() bool {
	if len(s.rest) == 0 {
		return false
	}
	var line []byte
	line, s.rest = nextLine(s.rest)
	if len(line) == 0 {
		s.rest = nil
		return false
	}
	s.name, s.value, s.valid = splitField(line)
	return true
}

// write writes the current field to bw as it was, value trimmed.
func (s *fieldScan) write(bw *bufio.Writer) {
	bw.Write(s.name)
	bw.WriteString(": ")
	bw.Write(s.value)
	bw.WriteString("\r\n")
}

// nextLine returns the line at the start of b without its line end, and
// the rest.
func nextLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil
	}
	line, rest = b[:i], b[i+1:]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}

// splitField splits a header line into its name and its trimmed value;
// false when it is not a valid field (net/http then reports it).
func splitField(line []byte) (name, value []byte, ok bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 || line[0] == ' ' || line[0] == '\t' {
		return nil, nil, false
	}
	name = line[:i]
	for _, c := range name {
		if !httpguts.IsTokenRune(rune(c)) {
			return nil, nil, false
		}
	}
	return name, bytes.Trim(line[i+1:], " \t"), true
}

// foldEq reports whether b equals the lower-case ASCII s, ignoring case.
func foldEq(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// connFields are the values of a header's Connection fields, in place.
type connFields struct {
	vals  [4][]byte
	n     int
	close bool // one names close
}

// add records a Connection field's value; false when there are more
// fields than the fast path keeps (the header is then left to net/http).
func (c *connFields) add(value []byte) bool {
	if c.n == len(c.vals) {
		return false
	}
	c.vals[c.n] = value
	c.n++
	if httpguts.HeaderValuesContainsToken([]string{string(value)}, "close") {
		c.close = true
	}
	return true
}

// names reports whether the Connection fields name field name (a hop by
// hop field the proxy does not forward).
func (c *connFields) names(name []byte) bool {
	for _, v := range c.vals[:c.n] {
		for len(v) > 0 {
			var tok []byte
			tok, v, _ = bytes.Cut(v, []byte(","))
			if tok = bytes.Trim(tok, " \t"); bytes.EqualFold(tok, name) {
				return true
			}
		}
	}
	return false
}
