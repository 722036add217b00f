package core

import (
	"net/http"
	"net/textproto"
	"strconv"
	"time"

	"github.com/ratewarden/ratewarden/core/rate"
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

// headerSet names the header values appended back to back to one buffer, and those that
// are a policy's constant text (see [policyText]), so that they can be set with few
// allocations.
type headerSet struct {
	names  [maxHeaders]string
	consts [maxHeaders]string // the value when it is a constant; "" when it is in the buffer
	ends   [maxHeaders]int    // where the value in the buffer ends (a constant takes none of it)
	n      int
}

// add names the value that ends at end (the buffer's length after appending it).
func (hs *headerSet) add(name string, end int) {
	hs.names[hs.n], hs.ends[hs.n] = name, end
	hs.n++
}

// addConst names a constant value, v; end is the buffer's length, which v does not change.
func (hs *headerSet) addConst(name, v string, end int) {
	hs.names[hs.n], hs.consts[hs.n], hs.ends[hs.n] = name, v, end
	hs.n++
}

// value is the i-th value, a constant or a part of all, the buffer as a string.
func (hs *headerSet) value(all string, i int) string {
	if hs.consts[i] != "" {
		return hs.consts[i]
	}
	start := 0
	if i > 0 {
		start = hs.ends[i-1]
	}
	return all[start:hs.ends[i]]
}

// writeTo sets the values named by hs, those in b included, on h: one string and one
// slice allocation.
func (hs *headerSet) writeTo(h http.Header, b []byte) {
	if hs.n == 0 {
		return
	}
	all := string(b)
	values := make([]string, hs.n)
	for i := 0; i < hs.n; i++ {
		values[i] = hs.value(all, i)
		h[hs.names[i]] = values[i : i+1 : i+1]
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

// policyText holds the header values that depend on a policy alone: built once per rule
// and tier when a configuration is compiled, not on every request (a Decision built by
// hand has none, and its values are appended as the others are).
type policyText struct {
	of     *rate.Policy            // the policy the text is of
	limit  [rate.MaxWindows]string // X-RateLimit-Limit, when window i binds
	policy string                  // RateLimit-Policy
}

func newPolicyText(p *rate.Policy) *policyText {
	t := &policyText{of: p, policy: string(appendPolicy(nil, p.Windows))}
	for i := range p.Windows[:min(len(p.Windows), rate.MaxWindows)] {
		t.limit[i] = strconv.FormatInt(p.Windows[i].Limit, 10)
	}
	return t
}

func (d *Decision) appendLimitHeaders(b []byte, hs *headerSet) []byte {
	s := d.settings()
	w, r, _ := d.Binding()
	t := d.text
	if t != nil && t.of != d.Policy { // Policy was changed by hand since
		t = nil
	}
	if s.xRateLimitHeaders {
		if t != nil {
			hs.addConst(headerLimit, t.limit[d.binding], len(b))
		} else {
			b = strconv.AppendInt(b, w.Limit, 10)
			hs.add(headerLimit, len(b))
		}
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
		if t != nil {
			hs.addConst(headerPolicy, t.policy, len(b))
		} else {
			b = appendPolicy(b, d.windows())
			hs.add(headerPolicy, len(b))
		}
	}
	if d.Outcome == Denied {
		b = strconv.AppendInt(b, RetryAfterSeconds(d.RetryAfter()), 10)
		hs.add(headerRetryAfter, len(b))
	}
	return b
}

// appendPolicy appends the RateLimit-Policy value of windows: one item per window.
func appendPolicy(b []byte, windows []rate.Window) []byte {
	for i, pw := range windows {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPolicyItem(b, pw.Name)
		b = append(b, ";q="...)
		b = strconv.AppendInt(b, pw.Limit, 10)
		b = append(b, ";w="...)
		b = strconv.AppendInt(b, pw.Seconds(), 10)
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
