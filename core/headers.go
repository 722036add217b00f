package core

import (
	"net/http"
	"net/textproto"
	"strconv"
	"time"
)

// Header names, in the canonical form http.Header stores.
var (
	headerLimit      = textproto.CanonicalMIMEHeaderKey("X-RateLimit-Limit")
	headerRemaining  = textproto.CanonicalMIMEHeaderKey("X-RateLimit-Remaining")
	headerReset      = textproto.CanonicalMIMEHeaderKey("X-RateLimit-Reset")
	headerUsed       = textproto.CanonicalMIMEHeaderKey("X-RateLimit-Used")
	headerRateLimit  = textproto.CanonicalMIMEHeaderKey("RateLimit")
	headerPolicy     = textproto.CanonicalMIMEHeaderKey("RateLimit-Policy")
	headerRetryAfter = textproto.CanonicalMIMEHeaderKey("Retry-After")
)

const maxHeaders = 7

// WriteHeaders sets the headers of d on h (docs/headers.md): X-RateLimit-Limit,
// -Remaining, -Reset and -Used, and the IETF RateLimit and RateLimit-Policy, on every
// limited request, as the configuration switches them; Retry-After on a denial (not in
// shadow mode) and on a 503. It sets nothing for exempt, disabled or failed-open requests
// (nor for a nil d).
//
// Call it before the handler writes its response, so that every status, 5xx included,
// carries the headers. It costs two allocations, however many headers it sets.
func (d *Decision) WriteHeaders(h http.Header) {
	if d == nil {
		return
	}
	var (
		buf [256]byte
		hs  headerSet
	)
	hs.writeTo(h, d.appendHeaders(buf[:0], &hs))
}

// headerSet names the header values appended back to back to one buffer, so that they
// can be set with few allocations.
type headerSet struct {
	names [maxHeaders]string
	ends  [maxHeaders]int
	n     int
}

// add names the value that ends at end (the buffer's length after appending it).
func (hs *headerSet) add(name string, end int) {
	hs.names[hs.n], hs.ends[hs.n] = name, end
	hs.n++
}

// writeTo sets the values in b on h: one string and one slice allocation.
func (hs *headerSet) writeTo(h http.Header, b []byte) {
	if hs.n == 0 {
		return
	}
	all := string(b)
	values := make([]string, hs.n)
	start := 0
	for i := 0; i < hs.n; i++ {
		values[i] = all[start:hs.ends[i]]
		h[hs.names[i]] = values[i : i+1 : i+1]
		start = hs.ends[i]
	}
}

// appendHeaders appends the values of the headers [Decision.WriteHeaders] sets to b and
// names them in hs.
func (d *Decision) appendHeaders(b []byte, hs *headerSet) []byte {
	switch {
	case d.Outcome == Unavailable:
		b = strconv.AppendInt(b, RetryAfterSeconds(d.unavailableRetry()), 10)
		hs.add(headerRetryAfter, len(b))
	case d.Limited():
		b = d.appendLimitHeaders(b, hs)
	case d.Outcome == Denied: // a Decision built by hand, without a policy
		b = strconv.AppendInt(b, RetryAfterSeconds(d.RetryAfter()), 10)
		hs.add(headerRetryAfter, len(b))
	}
	return b
}

func (d *Decision) appendLimitHeaders(b []byte, hs *headerSet) []byte {
	s := d.settings()
	w, r, _ := d.Binding()
	if s.xRateLimitHeaders {
		b = strconv.AppendInt(b, w.Limit, 10)
		hs.add(headerLimit, len(b))
		b = strconv.AppendInt(b, r.Remaining, 10)
		hs.add(headerRemaining, len(b))
		b = strconv.AppendInt(b, unixCeil(d.Reset()), 10)
		hs.add(headerReset, len(b))
		b = strconv.AppendInt(b, w.Limit-r.Remaining, 10)
		hs.add(headerUsed, len(b))
	}
	if s.ietfHeaders {
		b = appendPolicyItem(b, w.Name)
		b = append(b, ";r="...)
		b = strconv.AppendInt(b, r.Remaining, 10)
		b = append(b, ";t="...)
		b = strconv.AppendInt(b, ceilSeconds(r.ResetAfter), 10)
		hs.add(headerRateLimit, len(b))
		for i, pw := range d.windows() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendPolicyItem(b, pw.Name)
			b = append(b, ";q="...)
			b = strconv.AppendInt(b, pw.Limit, 10)
			b = append(b, ";w="...)
			b = strconv.AppendInt(b, pw.Seconds(), 10)
		}
		hs.add(headerPolicy, len(b))
	}
	if d.Outcome == Denied {
		b = strconv.AppendInt(b, RetryAfterSeconds(d.RetryAfter()), 10)
		hs.add(headerRetryAfter, len(b))
	}
	return b
}

// appendPolicyItem appends a policy name as a structured-field string. Rule names are
// restricted to [A-Za-z0-9_.-] by validation, so no escaping is needed.
func appendPolicyItem(b []byte, name string) []byte {
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"')
}

// unixCeil is t in Unix seconds, rounded up.
func unixCeil(t time.Time) int64 {
	if t.Nanosecond() > 0 {
		return t.Unix() + 1
	}
	return t.Unix()
}
