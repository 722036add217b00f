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
// shadow mode) and on a 503. It sets nothing for exempt, disabled or failed-open requests.
//
// Call it before the handler writes its response, so that every status, 5xx included,
// carries the headers. It costs two allocations, however many headers it sets.
func (d *Decision) WriteHeaders(h http.Header) {
	var hs headerSet
	hs.b = hs.stack[:0]
	switch {
	case d.Outcome == Unavailable:
		hs.b = strconv.AppendInt(hs.b, max(1, ceilSeconds(d.unavailableRetry())), 10)
		hs.add(headerRetryAfter)
	case d.Limited():
		d.appendLimitHeaders(&hs)
	}
	hs.writeTo(h)
}

// headerSet collects header values in one buffer, so that writing them costs one string
// and one slice allocation.
type headerSet struct {
	names [maxHeaders]string
	ends  [maxHeaders]int
	n     int
	b     []byte
	stack [256]byte
}

// add ends the value appended since the previous add and names it.
func (hs *headerSet) add(name string) {
	hs.names[hs.n], hs.ends[hs.n] = name, len(hs.b)
	hs.n++
}

func (hs *headerSet) writeTo(h http.Header) {
	if hs.n == 0 {
		return
	}
	all := string(hs.b)
	values := make([]string, hs.n)
	start := 0
	for i := 0; i < hs.n; i++ {
		values[i] = all[start:hs.ends[i]]
		h[hs.names[i]] = values[i : i+1 : i+1]
		start = hs.ends[i]
	}
}

func (d *Decision) appendLimitHeaders(hs *headerSet) {
	s := d.snapshot
	w, r, _ := d.Binding()
	if s.xRateLimitHeaders {
		hs.b = strconv.AppendInt(hs.b, w.Limit, 10)
		hs.add(headerLimit)
		hs.b = strconv.AppendInt(hs.b, r.Remaining, 10)
		hs.add(headerRemaining)
		hs.b = strconv.AppendInt(hs.b, unixCeil(d.Reset()), 10)
		hs.add(headerReset)
		hs.b = strconv.AppendInt(hs.b, w.Limit-r.Remaining, 10)
		hs.add(headerUsed)
	}
	if s.ietfHeaders {
		hs.b = appendPolicyItem(hs.b, w.Name)
		hs.b = append(hs.b, ";r="...)
		hs.b = strconv.AppendInt(hs.b, r.Remaining, 10)
		hs.b = append(hs.b, ";t="...)
		hs.b = strconv.AppendInt(hs.b, ceilSeconds(r.ResetAfter), 10)
		hs.add(headerRateLimit)
		for i, pw := range d.Policy.Windows {
			if i > 0 {
				hs.b = append(hs.b, ',')
			}
			hs.b = appendPolicyItem(hs.b, pw.Name)
			hs.b = append(hs.b, ";q="...)
			hs.b = strconv.AppendInt(hs.b, pw.Limit, 10)
			hs.b = append(hs.b, ";w="...)
			hs.b = strconv.AppendInt(hs.b, int64(pw.Period/time.Second), 10)
		}
		hs.add(headerPolicy)
	}
	if d.Outcome == Denied {
		hs.b = strconv.AppendInt(hs.b, max(1, ceilSeconds(d.RetryAfter())), 10)
		hs.add(headerRetryAfter)
	}
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
