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
	hs.writeTo(h, d, d.appendHeaders(buf[:0], &hs))
}

// The headers a decision sets, as indexes into headerNames, so that a headerSet holds no
// pointers: filling one, on the stack, costs no write barrier while the GC marks (which,
// with a small heap, is most of the time).
const (
	hLimit uint8 = iota
	hRemaining
	hReset
	hUsed
	hRateLimit
	hPolicy
	hRetryAfter
)

var headerNames = [...]string{
	hLimit: headerLimit, hRemaining: headerRemaining, hReset: headerReset, hUsed: headerUsed,
	hRateLimit: headerRateLimit, hPolicy: headerPolicy, hRetryAfter: headerRetryAfter,
}

// headerSet lists the headers of a decision in order: the values appended back to back to
// one buffer, and those that are the policy's constant text (see [policyText]), so that
// they can be set with few allocations.
type headerSet struct {
	names [maxHeaders]uint8
	ends  [maxHeaders]int // where the value ends in the buffer; a constant takes none of it
	konst uint8           // bit i: the i-th value is the policy's constant text
	n     int
}

// add names the value that ends at end (the buffer's length after appending it).
func (hs *headerSet) add(name uint8, end int) {
	hs.names[hs.n], hs.ends[hs.n] = name, end
	hs.n++
}

// addConst names a value that is the policy's constant text; end is the buffer's length,
// which it does not change.
func (hs *headerSet) addConst(name uint8, end int) {
	hs.konst |= 1 << hs.n
	hs.add(name, end)
}

// values sets vals[i] to the i-th value: a part of all, the buffer as a string, or the
// text of t (the decision's constText) for the window binding.
func (hs *headerSet) values(all string, t *policyText, binding uint8, vals []string) {
	start := 0
	for i := 0; i < hs.n; i++ {
		switch {
		case hs.konst&(1<<i) == 0:
			vals[i] = all[start:hs.ends[i]]
		case hs.names[i] == hLimit:
			vals[i] = t.limit[binding]
		default:
			vals[i] = t.policy
		}
		start = hs.ends[i]
	}
}

// set sets on h the i-th header to the value vals[i], in a slice of its own.
func (hs *headerSet) set(h http.Header, i int, vals []string) {
	h[headerNames[hs.names[i]]] = vals[i : i+1 : i+1]
}

// writeTo sets the headers of d that hs lists, with the values in b, on h: one string and
// one slice allocation.
func (hs *headerSet) writeTo(h http.Header, d *Decision, b []byte) {
	if hs.n == 0 {
		return
	}
	vals := make([]string, hs.n)
	hs.values(string(b), d.constText(), d.binding, vals)
	for i := range vals {
		hs.set(h, i, vals)
	}
}

// appendHeaders appends the values of the headers [Decision.WriteHeaders] sets to b and
// names them in hs.
func (d *Decision) appendHeaders(b []byte, hs *headerSet) []byte {
	switch {
	case d.Outcome == Unavailable:
		b = strconv.AppendInt(b, RetryAfterSeconds(d.unavailableRetry()), 10)
		hs.add(hRetryAfter, len(b))
	case d.Limited():
		b = d.appendLimitHeaders(b, hs)
	case d.Outcome == Denied: // a Decision built by hand, without a policy
		b = strconv.AppendInt(b, RetryAfterSeconds(d.RetryAfter()), 10)
		hs.add(hRetryAfter, len(b))
	}
	return b
}

// policyText holds the header values that depend on a policy alone: built once per rule
// and tier when a configuration is compiled, not on every request.
type policyText struct {
	limit  [rate.MaxWindows]string // X-RateLimit-Limit, when window i binds
	policy string                  // RateLimit-Policy
}

// constText is the header text of d's policy; nil when no policy applied.
func (d *Decision) constText() *policyText {
	if d.limits == nil {
		return nil
	}
	return d.limits.text
}

func newPolicyText(p *rate.Policy) *policyText {
	t := &policyText{policy: string(appendPolicy(nil, p.Windows))}
	for i := range p.Windows[:min(len(p.Windows), rate.MaxWindows)] {
		t.limit[i] = strconv.FormatInt(p.Windows[i].Limit, 10)
	}
	return t
}

func (d *Decision) appendLimitHeaders(b []byte, hs *headerSet) []byte {
	s := d.settings()
	w, r, _ := d.Binding()
	var remaining []byte // r.Remaining's digits once appended, copied for RateLimit's r=
	if s.xRateLimitHeaders {
		hs.addConst(hLimit, len(b))
		start := len(b)
		b = strconv.AppendInt(b, r.Remaining, 10)
		remaining = b[start:]
		hs.add(hRemaining, len(b))
		b = strconv.AppendInt(b, unixCeilAfter(d.now, r.ResetAfter), 10) // d.Reset()
		hs.add(hReset, len(b))
		b = strconv.AppendInt(b, w.Limit-r.Remaining, 10)
		hs.add(hUsed, len(b))
	}
	if s.ietfHeaders {
		b = appendPolicyItem(b, w.Name)
		b = append(b, ";r="...)
		if remaining != nil {
			b = append(b, remaining...)
		} else {
			b = strconv.AppendInt(b, r.Remaining, 10)
		}
		b = append(b, ";t="...)
		b = strconv.AppendInt(b, ceilSeconds(r.ResetAfter), 10)
		hs.add(hRateLimit, len(b))
		hs.addConst(hPolicy, len(b))
	}
	if d.Outcome == Denied {
		b = strconv.AppendInt(b, RetryAfterSeconds(d.RetryAfter()), 10)
		hs.add(hRetryAfter, len(b))
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

// unixCeilAfter is unixCeil(t.Add(d)) without building the sum: time.Time.Add, which
// also moves the monotonic reading, was 15 % of the header formatting in the middleware's
// CPU profile. d counts from t's microsecond, the instant the stores decided at (they read
// rate.Request.Now with UnixMicro): the nanoseconds below it are left out, or a window
// that ends on a whole second would be named a second later.
func unixCeilAfter(t time.Time, d time.Duration) int64 {
	sec := t.Unix() + int64(d/time.Second)
	ns := int64(t.Nanosecond()/1000*1000) + int64(d%time.Second) // in (-1s, 2s)
	switch {
	case ns > int64(time.Second):
		return sec + 2
	case ns > 0:
		return sec + 1
	}
	return sec
}
