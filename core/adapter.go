package core

import (
	"context"
	"net/http"
	"time"
	"unsafe"

	"github.com/ratewarden/ratewarden/core/config"
)

// This file holds what every framework adapter shares (adapters/ginlimit, echolimit,
// chilimit): building a Limiter that must be valid, deciding a request, setting its
// headers before the handler runs, and carrying the decision in the request context.
// An adapter adds only its framework's idiom around [Limiter.Gate].

// MustNew is like [New] but panics with the error when cfg is invalid or its backend
// cannot be built, like regexp.MustCompile: a misconfiguration fails at start, never per
// request. The adapters' New functions use it.
func MustNew(cfg config.Config, opts ...Option) *Limiter {
	l, err := New(cfg, opts...)
	if err != nil {
		panic(err)
	}
	return l
}

// Gate decides the request in.Request for a middleware. It returns a shallow copy of the
// request whose context carries the decision (see [FromContext]), and the decision.
//
// Before it returns, Gate sets the decision's headers on h (see [Decision.WriteHeaders]):
// the rate-limit headers of a limited request, plus Retry-After for a 429 or a 503. The
// caller sets h to the response's header map and calls Gate before the handler runs, so
// that every response carries the headers — 5xx, framework error pages and responses of
// recovered panics included — and so does the answer of a custom denied handler.
//
// Gate writes no status and no body. When d.Proceed() is false the caller answers,
// by default with d.WriteResponse; otherwise it passes the returned request on.
//
// Gate costs one allocation, which holds the decision, its context, the header values and
// the request copy; a denial one more, the store's whole answer for its 429 body.
func (l *Limiter) Gate(in Input, h http.Header) (*http.Request, *Decision) {
	dc := &decisionContext{Context: in.Request.Context()}
	// WithContext is inlined, so the copy it makes stays on the stack and is copied into
	// dc: one allocation instead of two (TestGateAllocs).
	dc.req = *in.Request.WithContext(dc)
	in.Request = &dc.req
	l.decide(detachedContext{dc}, in, &dc.d, dc.buf[:0])
	dc.writeHeaders(h)
	dc.d.gated = true
	return in.Request, &dc.d
}

// Skipped returns a copy of r for a middleware of l whose skipper let r through. Its
// context carries no decision — [FromContext] reports none, as for a request no limiter
// saw — but names l, so that [GateRule] still decides from the handler: the skipper
// skips the middleware's rule, not the handler's explicit check (a login handler's
// per-username limit holds for the internal addresses a skipper lets through). It costs
// one allocation, on skipped requests only.
func (l *Limiter) Skipped(r *http.Request) *http.Request {
	sc := &skippedContext{Context: r.Context(), lim: l}
	sc.req = *r.WithContext(sc) // one allocation, as in Gate
	return &sc.req
}

// GateRule decides r again from inside its handler, under the rule named rule (an
// endpoint's name, or "default") and counted under key (scope "key"; "" keeps the
// client's own identity), with the Limiter whose middleware decided r: a login handler
// limits attempts per username it read from the form, under a rule of its own, with the
// same headers and 429 answer as the middleware's. Like [Limiter.Gate], it sets the
// decision's headers on h — replacing the middleware's — and returns the request copy
// carrying the new decision; when d.Proceed() is false the caller answers, by default
// with d.WriteResponse.
//
// The decision consumes the request's cost at once, even under a rule with count_statuses:
// the handler calls GateRule when it knows the attempt counts (after a wrong password,
// say), as no middleware sees the status of its answer to count it later.
//
// A request the middleware's skipper let through is decided too, with that middleware's
// Limiter ([Limiter.Skipped]), the client identified as the middleware would have. With
// stacked limiters it is the innermost middleware's Limiter that decides.
//
// It panics when no ratewarden middleware ran before the handler: that is a wiring
// mistake that would otherwise leave the handler unlimited. A name no rule has is
// ignored (see [Input.Rule]).
func GateRule(r *http.Request, h http.Header, rule, key string) (*http.Request, *Decision) {
	ctx := r.Context()
	lim, _ := ctx.Value(limiterKey{}).(*Limiter)
	if lim == nil {
		panic("ratewarden: GateRule: no ratewarden middleware ran before this handler; add the adapter's middleware before the handler")
	}
	prev, _ := FromContext(ctx)
	if prev != nil && prev.limiter() != lim {
		prev = nil // the innermost middleware skipped r; an outer limiter's identity is not its
	}
	return lim.Gate(Input{Request: r, Rule: rule, Key: key, identity: prev, fromHandler: true}, h)
}

// FromContext returns the decision [Limiter.Gate] made for the request whose context is
// ctx (or a context derived from it). ok is false when no limiter decided the request,
// for example because a skipper let it through.
func FromContext(ctx context.Context) (d *Decision, ok bool) {
	d, ok = ctx.Value(decisionKey{}).(*Decision)
	return d, ok
}

// limiterKey is answered by the innermost context of a middleware, decided or skipped:
// the Limiter GateRule decides with.
type limiterKey struct{}

// skippedContext is the context of a request a skipper let through ([Limiter.Skipped]),
// holding the request copy that carries it, as decisionContext does.
type skippedContext struct {
	context.Context
	lim *Limiter
	req http.Request
}

func (c *skippedContext) Value(key any) any {
	if key == (limiterKey{}) {
		return c.lim
	}
	return c.Context.Value(key)
}

func (c *skippedContext) String() string { return "ratewarden.skippedContext" }

type decisionKey struct{}

// decisionContext is a context.WithValue for the decision key that holds the Decision
// itself, the backing arrays of its counter key and headers and the request that carries
// it, so that deciding a request, storing its decision and setting its headers cost one
// allocation (in the 704-byte size class: TestGateAllocationSize).
type decisionContext struct {
	context.Context
	d   Decision
	req http.Request // the request copy Gate returns, whose context is this one
	// buf holds the counter key, then the header values that are not a policy's constant
	// text, back to back: "ip:203.0.113.7:default" and "99", "1764160800", "1",
	// "\"default\";r=99;t=1" (longer ones are appended to a new array).
	buf    [88]byte
	values [maxHeaders]string // the header map's value slices
}

// writeHeaders does what [Decision.WriteHeaders] does, with the arrays of dc instead of
// new allocations. It is called once per dc, after the decision: the header values are
// substrings of buf after the key, which is not written again.
func (dc *decisionContext) writeHeaders(h http.Header) {
	var hs headerSet
	used := len(dc.d.key) // the key is in buf unless it was longer
	if used > len(dc.buf) {
		used = 0
	}
	b := dc.d.appendHeaders(dc.buf[used:used], &hs)
	hs.values(unsafe.String(unsafe.SliceData(b), len(b)), dc.d.constText(), dc.d.binding, dc.values[:])
	for i := 0; i < hs.n; i++ {
		hs.set(h, i, dc.values[:])
	}
}

func (c *decisionContext) Value(key any) any {
	switch key {
	case decisionKey{}:
		return &c.d
	case limiterKey{}:
		return c.d.limiter()
	}
	return c.Context.Value(key)
}

func (c *decisionContext) String() string { return "ratewarden.decisionContext" }

// detachedContext is context.WithoutCancel(dc) without its allocation: a struct of one
// pointer is stored in an interface as is. A decision runs under it (see
// [Limiter.decide]): the request's values, never its cancellation or deadline.
type detachedContext struct{ dc *decisionContext }

func (detachedContext) Deadline() (deadline time.Time, ok bool) { return time.Time{}, false }
func (detachedContext) Done() <-chan struct{}                   { return nil }
func (detachedContext) Err() error                              { return nil }
func (c detachedContext) Value(key any) any                     { return c.dc.Value(key) }
func (c detachedContext) String() string                        { return "ratewarden.detachedContext" }
