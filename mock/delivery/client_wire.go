package delivery

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"slices"
	"strconv"
	"strings"
)

// The lean client's HTTP/1.1, byte for byte what net/http's Transport
// writes for a notify and reads the answers net/http reads: the tests in
// client_test.go compare the two.

// leanHeader reports whether the lean client writes h as net/http would:
// valid names and values, and none of the fields net/http writes itself
// or acts on (Host, User-Agent, Content-Length, Accept-Encoding, ...).
func leanHeader(h http.Header) bool {
	for k, vs := range h {
		if k == "" || !isToken(k) {
			return false
		}
		for _, s := range specialHeaders {
			if len(k) == len(s) && strings.EqualFold(k, s) {
				return false
			}
		}
		for _, v := range vs {
			for i := 0; i < len(v); i++ {
				if b := v[i]; b < ' ' && b != '\t' || b == 0x7f {
					return false
				}
			}
		}
	}
	return true
}

// specialHeaders are the fields net/http writes itself or acts on.
var specialHeaders = [...]string{"Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer", "Connection",
	"Accept-Encoding", "Range", "Expect", "Te", "Upgrade", "Authorization", "Proxy-Authorization"}

// appendRequest appends the POST of body to t with header h (leanHeader
// holds) as net/http's Transport writes it: request line, Host,
// User-Agent, Content-Length, h's fields sorted by name with their values
// trimmed, the Accept-Encoding the Transport adds, then the body.
func appendRequest(b []byte, t *target, h http.Header, body []byte) []byte {
	var keys [16]string
	ks := keys[:0]
	for k := range h {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	b = append(b, "POST "...)
	b = append(b, t.uri...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, t.host...)
	b = append(b, "\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n"...)
	for _, k := range ks {
		for _, v := range h[k] {
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, trimSpace(v)...)
			b = append(b, "\r\n"...)
		}
	}
	b = append(b, "Accept-Encoding: gzip\r\n\r\n"...)
	return append(b, body...)
}

// trimSpace trims spaces and tabs, as net/textproto.TrimString.
func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func trimSpaceBytes(s []byte) []byte {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0 {
			continue
		}
		return false
	}
	return true
}

// Limits of an answer, as net/http's: the header (the Transport's
// default MaxResponseHeaderBytes), interim 1xx answers before the final
// one, and what is read past the kept body so the connection can serve
// the next notify.
const (
	maxHeaderBytes = 10 << 20
	max1xx         = 5
	maxDrain       = 1 << 20
)

// head is what an answer's status line and header say about it.
type head struct {
	major, minor int
	status       int
	length       int64 // Content-Length; -1 when absent
	chunked      bool  // Transfer-Encoding: chunked
	otherTE      string
	close        bool // Connection: close
	keepAlive    bool // Connection: keep-alive
	gzip         bool // Content-Encoding: gzip
}

// answerError is an answer the client cannot read: what came, what was
// expected. [sandbox] It fails the attempt like a connection error (BJPAY
// documents no answer but a 2xx): the retry schedule decides what follows.
type answerError struct{ msg string }

func (e *answerError) Error() string { return "unreadable HTTP answer: " + e.msg }

func badAnswer(format string, args ...any) error {
	return &answerError{fmt.Sprintf(format, args...)}
}

// quoted is b for a message: quoted, and cut at 64 bytes.
func quoted(b []byte) string {
	if len(b) > 64 {
		return strconv.Quote(string(b[:64])) + "..."
	}
	return strconv.Quote(string(b))
}

// readAnswer reads the answer to the request just written: its status,
// up to maxResponseBody bytes of its body (an error in the body only
// shortens it, as the notifier always had it), and whether the
// connection can carry another request.
func (pc *leanConn) readAnswer() (status int, body string, keep bool, err error) {
	if _, err := pc.br.Peek(1); err != nil {
		return 0, "", false, err // io.EOF: closed without an answer
	}
	var h head
	for n := 0; ; n++ {
		if h, err = pc.readHead(); err != nil {
			return 0, "", false, err
		}
		if h.status < 100 || h.status > 199 || h.status == 101 {
			break
		}
		if n == max1xx {
			return 0, "", false, badAnswer("more than %d interim 1xx answers; expected a final status", max1xx)
		}
	}
	keep = !h.close && h.major == 1 && (h.minor > 0 || h.keepAlive)
	if h.major > 1 {
		keep = !h.close
	}
	if h.status < 200 || h.status == 204 || h.status == 304 {
		// No body, whatever the header says: 101 hands the connection
		// to another protocol, which is no notify's.
		return h.status, "", keep && h.status != 101, nil
	}
	chunked := h.chunked && (h.major > 1 || h.minor > 0) // HTTP/1.0 has no Transfer-Encoding
	if h.otherTE != "" && (h.major > 1 || h.minor > 0) {
		return 0, "", false, badAnswer("Transfer-Encoding %q; expected chunked or none", h.otherTE)
	}
	if !chunked && !h.gzip && h.length >= 0 {
		// The common answer, read without a reader in between.
		n := min(h.length, maxResponseBody)
		pc.buf = slices.Grow(pc.buf[:0], int(n))[:n]
		got, err := io.ReadFull(pc.br, pc.buf)
		body = string(pc.buf[:got])
		rest := h.length - int64(got)
		if err != nil || rest > maxDrain {
			return h.status, body, false, nil
		}
		if _, err := pc.br.Discard(int(rest)); err != nil {
			return h.status, body, false, nil
		}
		return h.status, body, keep && pc.br.Buffered() == 0, nil
	}
	var raw io.Reader
	switch {
	case chunked:
		raw = httputil.NewChunkedReader(pc.br)
	case h.length >= 0:
		raw = &io.LimitedReader{R: pc.br, N: h.length}
	default: // to the end of the connection
		raw, keep = pc.br, false
	}
	if h.gzip {
		// net/http decompresses the gzip it asked for; rare enough to
		// close the connection after rather than drain it.
		if zr, err := gzip.NewReader(raw); err == nil {
			body = pc.keep(zr)
		}
		return h.status, body, false, nil
	}
	body = pc.keep(raw)
	if !keep {
		return h.status, body, false, nil
	}
	// Chunked: the rest of the body, then the trailer.
	if n, err := io.CopyN(io.Discard, raw, maxDrain+1); err != io.EOF || n > maxDrain {
		return h.status, body, false, nil
	}
	for budget := maxHeaderBytes; ; {
		line, long, err := pc.line(&budget)
		if err != nil || long {
			return h.status, body, false, nil
		}
		if len(line) == 0 {
			break
		}
	}
	return h.status, body, pc.br.Buffered() == 0, nil
}

// keep reads up to maxResponseBody bytes of r for the journal.
func (pc *leanConn) keep(r io.Reader) string {
	pc.buf = slices.Grow(pc.buf[:0], maxResponseBody)[:maxResponseBody]
	n, _ := io.ReadFull(r, pc.buf)
	return string(pc.buf[:n])
}

// readHead reads a status line and header.
func (pc *leanConn) readHead() (head, error) {
	h := head{length: -1}
	budget := maxHeaderBytes
	line, long, err := pc.line(&budget)
	switch {
	case err != nil:
		return h, err
	case long:
		return h, badAnswer("a status line longer than %d bytes, starting %s; expected e.g. \"HTTP/1.1 200 OK\"", pc.br.Size(), quoted(line))
	}
	if err := h.parseStatus(line); err != nil {
		return h, err
	}
	var folded bool // the last field read is one the framing depends on
	for {
		line, long, err := pc.line(&budget)
		if err != nil {
			return h, err
		}
		if len(line) == 0 {
			return h, nil
		}
		if line[0] == ' ' || line[0] == '\t' { // obsolete line folding
			if folded {
				return h, badAnswer("a folded header line %s continuing Content-Length, Transfer-Encoding, Connection or Content-Encoding", quoted(line))
			}
			if long {
				pc.skipLine(&budget)
			}
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 || !isToken(string(name)) {
			return h, badAnswer("a malformed header line %s; expected Name: value", quoted(line))
		}
		folded = true
		switch {
		case equalFold(name, "Content-Length"):
			err = h.setLength(trimSpaceBytes(value))
		case equalFold(name, "Transfer-Encoding"):
			v := trimSpaceBytes(value)
			switch {
			case h.chunked || h.otherTE != "":
				h.otherTE = "more than one Transfer-Encoding"
			case equalFold(v, "chunked"):
				h.chunked = true
			default:
				h.otherTE = string(v)
			}
		case equalFold(name, "Connection"):
			for tok := range bytes.SplitSeq(value, []byte(",")) {
				tok = trimSpaceBytes(tok)
				h.close = h.close || equalFold(tok, "close")
				h.keepAlive = h.keepAlive || equalFold(tok, "keep-alive")
			}
		case equalFold(name, "Content-Encoding"):
			h.gzip = equalFold(trimSpaceBytes(value), "gzip")
		default:
			folded = false
		}
		if err != nil {
			return h, err
		}
		if long {
			if folded {
				return h, badAnswer("a %s header longer than %d bytes", name, pc.br.Size())
			}
			pc.skipLine(&budget)
		}
	}
}

// parseStatus reads "HTTP/1.1 200 OK" (the reason may be empty or absent).
func (h *head) parseStatus(line []byte) error {
	bad := func() error {
		return badAnswer("a malformed status line %s; expected e.g. \"HTTP/1.1 200 OK\"", quoted(line))
	}
	if len(line) < 12 || string(line[:5]) != "HTTP/" || !isDigit(line[5]) || line[6] != '.' || !isDigit(line[7]) || line[8] != ' ' ||
		!isDigit(line[9]) || !isDigit(line[10]) || !isDigit(line[11]) || len(line) > 12 && line[12] != ' ' {
		return bad()
	}
	h.major, h.minor = int(line[5]-'0'), int(line[7]-'0')
	h.status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	if h.major < 1 || h.status < 100 { // 0xx: no status HTTP defines, and the journal's 0 means no answer
		return bad()
	}
	return nil
}

// setLength reads a Content-Length value; a repeated one must agree.
func (h *head) setLength(v []byte) error {
	if len(v) == 0 || len(v) > 18 {
		return badAnswer("Content-Length %s; expected a number of bytes", quoted(v))
	}
	var n int64
	for _, b := range v {
		if !isDigit(b) {
			return badAnswer("Content-Length %s; expected a number of bytes", quoted(v))
		}
		n = n*10 + int64(b-'0')
	}
	if h.length >= 0 && h.length != n {
		return badAnswer("two different Content-Length values, %d and %d", h.length, n)
	}
	h.length = n
	return nil
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// equalFold compares an ASCII field name or token case-insensitively.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// line reads a header line without its CRLF (or LF); long reports a line
// that did not fit the buffer: line is its start, and the caller skips
// the rest or fails. The bytes count against budget. An end of the
// connection inside a header is io.ErrUnexpectedEOF.
func (pc *leanConn) line(budget *int) (line []byte, long bool, err error) {
	line, err = pc.br.ReadSlice('\n')
	*budget -= len(line)
	switch {
	case *budget < 0:
		return nil, false, badAnswer("a header over %d bytes", maxHeaderBytes)
	case errors.Is(err, bufio.ErrBufferFull):
		return line, true, nil
	case err == io.EOF:
		return nil, false, io.ErrUnexpectedEOF
	case err != nil:
		return nil, false, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, false, nil
}

// skipLine reads the rest of a long line.
func (pc *leanConn) skipLine(budget *int) {
	for *budget >= 0 {
		line, err := pc.br.ReadSlice('\n')
		*budget -= len(line)
		if !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}
