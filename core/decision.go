package core

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strings"
	"time"

	"github.com/ratewarden/ratewarden/core/clientip"
	"github.com/ratewarden/ratewarden/core/rate"
)

// Outcome is what a [Limiter] decided for one request.
type Outcome uint8

// The outcomes. Only [Denied] and [Unavailable] stop the request.
const (
	// Disabled: the limiter is off (enabled = false); no counter, no headers.
	Disabled Outcome = iota
	// Allowed: within every window; the cost was consumed.
	Allowed
	// Denied: over a window or in a penalty cooldown; answered 429.
	Denied
	// ShadowDenied: would have been denied, but the mode is shadow; the request proceeds
	// with the headers enforce mode would send.
	ShadowDenied
	// Exempt: the client is exempted; no counter, no headers.
	Exempt
	// FailedOpen: the backend failed and fail_mode is open; the request proceeds without
	// rate-limit headers.
	FailedOpen
	// Unavailable: the backend failed and fail_mode is closed; answered 503.
	Unavailable
)

var outcomeNames = [...]string{"disabled", "allowed", "denied", "shadow_denied", "exempt", "error", "unavailable"}

// String returns the outcome's name, as used in logs and as the decision label of metrics
// (adapters/promlimit): "allowed", "denied", "shadow_denied", "exempt", "disabled", "error"
// (failed open) or "unavailable" (counted as "error" in metrics).
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// Scope names the kind of identity a request is counted under.
const (
	ScopeIP     = "ip"
	ScopeUser   = "user"   // a verified JWT
	ScopeKey    = "key"    // a custom key function's key, or a verified API key's user id
	ScopeGlobal = "global" // every client of a rule with scope = "global", as one
)

// GlobalID is the id of the one client a rule with scope = "global" counts
// (Decision.ID, and the Redis key "<prefix>:{global:*:<rule>}:<seconds>").
const GlobalID = "*"

// TierAnonymous is the tier of a request without a verified token or API key.
const TierAnonymous = "anonymous"

// Decision is the outcome of one request and everything needed to answer it: the
// rate-limit headers, the 429 or 503 body, logs and metrics. A Decision is filled by
// [Limiter.Decide]; adapters expose it to handlers through the framework's context.
// The zero value is a [Disabled] decision.
//
// Every exported method is safe on a nil *Decision, which reads as the zero value (a
// [Disabled] decision: Proceed is true, nothing is limited, the numbers are 0), so that
// a handler may call them on the result of FromContext without checking ok (the fields,
// Outcome and Tier, need ok):
//
//	d, _ := ginlimit.FromContext(c) // nil when a skipper let the request through
//	log.Printf("%d left", d.Remaining())
//
// A Decision belongs to its request. Once made it may be read from several goroutines;
// only [Decision.Complete] changes it, and is called once, by the adapter, after the
// handler.
type Decision struct {
	// The exported fields are the decision's identity and outcome; the rest is read with
	// methods. A Decision is kept small: [Limiter.Gate] allocates it with the request copy
	// and the header values, and every byte of that allocation is paid on every request
	// (TestGateAllocationSize). A Decision built by hand, to test a custom denied handler,
	// sets Outcome and reads as not limited.

	// Tier is the verified tier (a token's claim or the API key's), TierNone for an
	// identity without one, or TierAnonymous.
	Tier string
	// ClientIP is the client address as derived from the connection and trusted proxies;
	// the zero Addr when none could be (a unix socket without a trusted proxy).
	ClientIP netip.Addr
	// Err is the backend error behind FailedOpen or Unavailable.
	Err error
	// Outcome is what was decided.
	Outcome Outcome

	binding     uint8     // index of the binding window in the policy
	scope       scopeCode // the scope counted under: the client's, or the rule's ip or global
	clientScope scopeCode // the client's scope before the rule's applied, for GateRule with no key
	gated       bool      // Gate has set the headers on the response already
	apiKey      bool      // the identity is a verified API key's (for user exemptions)
	counting    bool      // the rule's count_statuses decide whether the response consumes the cost (Complete)
	fallback    bool      // the store decided in-process, its backend unavailable (fail_mode "local")

	now      time.Time // decision time
	snapshot *snapshot // the configuration the decision was made under; its limiter made it
	rule     *rule     // the rule that applied; nil when none did (disabled)
	limits   *limits   // the policy, cost and header text of the rule and tier; nil unless the store was asked
	// origin is the middleware's decision an in-handler decision (GateRule) descends from;
	// nil for the middleware's own.
	origin *Decision
	// denial is the store's whole answer to a denied request (every window, the
	// penalty), for its body, log and Retry-After; nil otherwise.
	denial *rate.Result
	// clientID is the client's id before the rule's scope applied (see [Decision.ID]).
	clientID string
	key      string // the counter key, for Complete
	// The binding window's state after the decision (see [Decision.Binding]).
	remaining  int64
	resetAfter time.Duration
}

// scopeCode is a client's scope (ScopeIP, ScopeUser or ScopeKey) in one byte; 0 is "".
// identify sets it with the scope, so that no decision compares scope strings.
type scopeCode uint8

const (
	scopeNone scopeCode = iota
	scopeIP
	scopeUser
	scopeKey
	scopeGlobal
)

var scopeNames = [...]string{scopeNone: "", scopeIP: ScopeIP, scopeUser: ScopeUser, scopeKey: ScopeKey, scopeGlobal: ScopeGlobal}

// setClient sets the client's scope and id, as identified before a rule's scope applies.
func (d *Decision) setClient(scope scopeCode, id string) {
	d.scope, d.clientScope, d.clientID = scope, scope, id
}

// Rule is the name of the rule that applied, also the policy name in headers:
// "default", "compute", prefixed with the Limiter's name when it has one ([WithName]:
// "search.compute"); "" when none did (a disabled limiter, a Decision built by hand).
func (d *Decision) Rule() string {
	if d == nil || d.rule == nil {
		return ""
	}
	return d.rule.Name
}

// Scope is the scope the request was counted under: ScopeIP, ScopeUser, ScopeKey or
// ScopeGlobal (the rule's scope applied to the client's identity); "" when no client was
// identified.
func (d *Decision) Scope() string {
	if d == nil {
		return ""
	}
	return scopeNames[d.scope]
}

// ID is the id the request was counted under: the user id or key for ScopeUser and
// ScopeKey, GlobalID for ScopeGlobal, "" for ScopeIP (see [Decision.IPKey] and
// [Decision.ClientID]).
func (d *Decision) ID() string {
	switch {
	case d == nil || d.scope == scopeIP:
		return ""
	case d.scope == scopeGlobal:
		return GlobalID
	}
	return d.clientID
}

// IPKey is the prefix the client address is counted under: its /32, or its /64 (the
// configured client_ip.ipv6_prefix) for IPv6; the zero Prefix without a client address.
func (d *Decision) IPKey() netip.Prefix {
	if d == nil {
		return netip.Prefix{}
	}
	return d.settings().resolver.Key(d.ClientIP)
}

// Now is the decision time, on the Limiter's clock (see [WithClock]); the zero time for a
// Decision built by hand.
func (d *Decision) Now() time.Time {
	if d == nil {
		return time.Time{}
	}
	return d.now
}

// Policy is the policy whose windows applied: the rule's own, or its tier's; nil unless
// the store answered (nil for FailedOpen and Unavailable). It is the Limiter's own, shared
// by every decision of the rule and tier until a reload: read it, never change it (a
// [rate.Policy] is immutable once built, and a change would apply to every client).
func (d *Decision) Policy() *rate.Policy {
	if d == nil || d.limits == nil || d.Outcome == FailedOpen || d.Outcome == Unavailable {
		return nil
	}
	return d.limits.Policy
}

// Cost is the number of units the request costs under its rule and tier: consumed, or
// checked for, in every window of [Decision.Policy], and asked of the store when it
// failed too; 0 when the store was not asked (Disabled, Exempt).
func (d *Decision) Cost() int64 {
	if d == nil || d.limits == nil {
		return 0
	}
	return d.limits.Cost
}

// limiter is the Limiter that made d, for GateRule and Complete; nil for a Decision built
// by hand.
func (d *Decision) limiter() *Limiter {
	if d.snapshot == nil {
		return nil
	}
	return d.snapshot.limiter
}

// Proceed reports whether the request should reach the handler.
func (d *Decision) Proceed() bool {
	return d == nil || d.Outcome != Denied && d.Outcome != Unavailable
}

// Limited reports whether the request was counted and so carries rate-limit headers.
func (d *Decision) Limited() bool {
	return len(d.windows()) > 0 && (d.Outcome == Allowed || d.Outcome == Denied || d.Outcome == ShadowDenied)
}

// ClientID is the identity a request was counted under, as it appears in logs:
// "ip:203.0.113.7", "ip:2001:db8:1:2::/64", "user:alice", "key:<id>" (a custom key, or
// the user id of an API key) or "global"; "" when no client was identified (a nil,
// disabled or zero Decision).
func (d *Decision) ClientID() string {
	switch {
	case d == nil || d.scope == scopeNone:
		return ""
	case d.scope == scopeIP:
		return string(clientip.AppendKey([]byte("ip:"), d.IPKey()))
	case d.scope == scopeGlobal:
		return ScopeGlobal
	}
	return d.Scope() + ":" + d.CountedID() // one allocation, as before the digest existed
}

// maxIDBytes bounds the ids that counter keys, logs and metrics carry: a longer user id or
// key (a username of a megabyte, from a form) is written as "sha256:" and the hex of its
// SHA-256, so the memory and Redis a key costs, and a log record, stay bounded whatever
// clients send. So is an id with "{" or "}", which would otherwise choose the Redis
// Cluster hash tag of its keys (SPEC section 5) and let clients pile keys on one node,
// and an id that itself starts with "sha256:", which could otherwise name the counter of
// the id it is the digest of. Distinct ids stay distinct.
const maxIDBytes = 128

// CountedID is the id the client of d is counted, logged and labelled under: ID itself,
// or its digest "sha256:<hex>" when ID is longer than 128 bytes, contains "{" or "}", or
// starts with "sha256:" (see [Decision.ClientID]). It allocates only for a digest.
func (d *Decision) CountedID() string {
	id := d.ID()
	if !keptAsIs(id) {
		return string(appendID(nil, id))
	}
	return id
}

// keptAsIs reports whether an id is counted as it is, not as its digest.
func keptAsIs(id string) bool {
	return len(id) <= maxIDBytes && !strings.ContainsAny(id, "{}") && !strings.HasPrefix(id, "sha256:")
}

// appendID appends id to b, or its digest when it is not kept as it is.
func appendID(b []byte, id string) []byte {
	if keptAsIs(id) {
		return append(b, id...)
	}
	sum := sha256.Sum256([]byte(id))
	b = append(b, "sha256:"...)
	return hex.AppendEncode(b, sum[:])
}

// TierOther is the metric label of a tier that no rule configures.
const TierOther = "other"

// TierLabel is the tier as a metric label: the tier when some rule configures it (and
// TierAnonymous, TierNone), else TierOther, so that token claims cannot create unbounded
// label values.
func (d *Decision) TierLabel() string {
	if d == nil {
		return TierOther
	}
	if _, ok := d.settings().tierNames[d.Tier]; ok || d.Tier == TierAnonymous || d.Tier == TierNone {
		return d.Tier
	}
	return TierOther
}

// Binding returns the window that decides the headers, the one with the fewest remaining
// units, and its state. ok is false when the request was not limited.
func (d *Decision) Binding() (w rate.Window, r rate.WindowResult, ok bool) {
	ws := d.windows()
	if len(ws) == 0 || int(d.binding) >= len(ws) {
		return rate.Window{}, rate.WindowResult{}, false
	}
	if d.denial != nil {
		return ws[d.binding], d.denial.Windows[d.binding], true
	}
	return ws[d.binding], rate.WindowResult{Allowed: true, Remaining: d.remaining, ResetAfter: d.resetAfter}, true
}

// Limit is the limit of the binding window (0 when not limited).
func (d *Decision) Limit() int64 {
	w, _, _ := d.Binding()
	return w.Limit
}

// Remaining is the number of units left in the binding window after the request (0 when
// not limited). A denied request consumed nothing: Remaining is what was left, which can
// be above 0 when the request cost more than that.
func (d *Decision) Remaining() int64 {
	_, r, _ := d.Binding()
	return r.Remaining
}

// Reset is when the binding window is full again (the zero time when not limited),
// counted from the microsecond of d.Now, the instant the store decided at.
func (d *Decision) Reset() time.Time {
	_, r, ok := d.Binding()
	if !ok {
		return time.Time{}
	}
	return d.now.Truncate(time.Microsecond).Add(r.ResetAfter)
}

// RetryAfter is how long a denied client must wait before the same request would be
// admitted: the longest wait over the denying windows, or the penalty cooldown left. A
// ShadowDenied decision reports what enforce mode would have answered (its response
// carries no Retry-After). It is zero for a request that was not denied, Unavailable
// included: a 503's Retry-After is [UnavailableRetry] of Err.
func (d *Decision) RetryAfter() time.Duration {
	if d == nil || d.denial == nil || d.Outcome != Denied && d.Outcome != ShadowDenied {
		return 0
	}
	wait := d.denial.Cooldown
	for i := range d.windows() {
		wait = max(wait, d.denial.Windows[i].RetryAfter)
	}
	return wait
}

// Fallback reports that the store decided the request in-process because its backend was
// unavailable (fail_mode "local": the Redis store's in-process fallback); false for a
// decision of the backend itself, and for one the store did not make.
func (d *Decision) Fallback() bool {
	return d != nil && d.fallback
}

// Cooldown is the penalty cooldown left when the request was denied or, in shadow mode,
// would have been (zero when none is in force): a request denied during a cooldown, or
// whose denial started one, has Cooldown > 0, and its RetryAfter is at least as long.
func (d *Decision) Cooldown() time.Duration {
	if d == nil || d.denial == nil {
		return 0
	}
	return d.denial.Cooldown
}

// originDecision is the middleware's decision d descends from: d itself for the middleware's own,
// nil for a nil d.
func (d *Decision) originDecision() *Decision {
	if d == nil || d.origin == nil {
		return d
	}
	return d.origin
}

// windows are the windows of the policy that applied; none for a decision that was not
// limited or was built by hand.
func (d *Decision) windows() []rate.Window {
	p := d.Policy()
	if p == nil {
		return nil
	}
	return p.Windows[:min(len(p.Windows), rate.MaxWindows)]
}

// settings is the configuration the decision was made under; the defaults for a
// Decision built by hand (in a test of a custom denied handler, say).
func (d *Decision) settings() *snapshot {
	if d.snapshot == nil {
		return &handBuilt
	}
	return d.snapshot
}

var handBuilt = snapshot{xRateLimitHeaders: true, ietfHeaders: true, resolver: new(clientip.Resolver)}

// setResult keeps of the store's answer res what d needs: the binding window, the window
// with the fewest remaining units (on a tie, the one that takes longer to fill), and the
// whole answer when it denied. res is the caller's, reused for the next decision.
func (d *Decision) setResult(res *rate.Result) {
	d.binding = 0
	for i := 1; i < len(d.limits.Policy.Windows); i++ {
		r, b := res.Windows[i], res.Windows[d.binding]
		if r.Remaining < b.Remaining || r.Remaining == b.Remaining && r.ResetAfter > b.ResetAfter {
			d.binding = uint8(i)
		}
	}
	b := res.Windows[d.binding]
	d.remaining, d.resetAfter, d.fallback = b.Remaining, b.ResetAfter, res.Fallback
	if !res.Allowed {
		d.denial = new(rate.Result)
		*d.denial = *res
	}
}

// RetryAfterSeconds is d as the value of a Retry-After header: whole seconds, rounded
// up, at least 1.
func RetryAfterSeconds(d time.Duration) int64 { return max(1, ceilSeconds(d)) }

// ceilSeconds rounds d up to whole seconds.
func ceilSeconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d%time.Second > 0 {
		s++
	}
	return s
}
