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
// a handler may read the result of FromContext without checking ok:
//
//	d, ok := ginlimit.FromContext(c) // ok is false when a skipper let the request through
//	if ok { log.Printf("%d left", d.Remaining()) }
//
// A Decision belongs to its request. Once made it may be read from several goroutines;
// only [Decision.Complete] changes it, and is called once, by the adapter, after the
// handler.
type Decision struct {
	Outcome Outcome

	Rule  string // rule name, also the policy name in headers: "default", "compute"
	Scope string // ScopeIP, ScopeUser, ScopeKey or ScopeGlobal (the rule's scope applied)
	Tier  string // the verified tier (a token's claim or the API key's), TierNone for an identity without one, or TierAnonymous
	// ID is the user id or key for ScopeUser and ScopeKey, GlobalID for ScopeGlobal; for
	// ScopeIP see [Decision.ClientID].
	ID string

	Method string // request method and path, for logs
	Path   string

	// ClientIP is the client address as derived from the connection and trusted proxies.
	ClientIP netip.Addr
	// IPKey is the prefix an IP-scoped client is counted under (/32, or /64 for IPv6).
	IPKey netip.Prefix

	Now    time.Time // decision time
	Cost   int64
	Policy *rate.Policy // the windows that applied; nil unless the request was limited
	Result rate.Result  // the store's answer, when the store answered
	Err    error        // the backend error behind FailedOpen or Unavailable

	// The unexported fields are few and small: Gate allocates a Decision with the request
	// copy and the header values, and every byte of that allocation is paid in GC work on
	// every request (TestGateAllocationSize).

	text     *policyText // the header text of Policy; nil for a Decision built by hand
	snapshot *snapshot   // the configuration the decision was made under; its limiter made it
	// clientID is the client's id before the rule's scope applied (ID is the counted one),
	// and clientScope its scope, for GateRule with no key.
	clientID string
	// origin is the middleware's decision an in-handler decision (GateRule) descends from;
	// nil for the middleware's own.
	origin *Decision
	// counting is the rule whose count_statuses decide whether the response consumes the
	// cost; nil when the decision consumed it already.
	counting    *rule
	req         rate.Request // the store request; here so that deciding does not allocate
	binding     uint8        // index of the binding window in Result.Windows
	clientScope scopeCode
	gated       bool // Gate has set the headers on the response already
	apiKey      bool // the identity is a verified API key's (for user exemptions)
}

// scopeCode is a client's scope (ScopeIP, ScopeUser or ScopeKey) in one byte; 0 is "".
// identify sets it with the scope, so that no decision compares scope strings.
type scopeCode uint8

const (
	scopeNone scopeCode = iota
	scopeIP
	scopeUser
	scopeKey
)

var scopeNames = [...]string{scopeNone: "", scopeIP: ScopeIP, scopeUser: ScopeUser, scopeKey: ScopeKey}

// setClient sets the client's scope and id, as identified before a rule's scope applies.
func (d *Decision) setClient(scope scopeCode, id string) {
	d.Scope, d.ID, d.clientScope, d.clientID = scopeNames[scope], id, scope, id
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
	case d == nil || d.Scope == "":
		return ""
	case d.Scope == ScopeIP:
		return string(clientip.AppendKey([]byte("ip:"), d.IPKey))
	case d.Scope == ScopeGlobal:
		return ScopeGlobal
	}
	return d.Scope + ":" + d.CountedID() // one allocation, as before the digest existed
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
	switch {
	case d == nil:
		return ""
	case keptAsIs(d.ID):
		return d.ID
	}
	return string(appendID(nil, d.ID))
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
	return ws[d.binding], d.Result.Windows[d.binding], true
}

// Limit is the limit of the binding window (0 when not limited).
func (d *Decision) Limit() int64 {
	w, _, _ := d.Binding()
	return w.Limit
}

// Remaining is the number of units left in the binding window (0 when not limited).
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
	return d.Now.Truncate(time.Microsecond).Add(r.ResetAfter)
}

// RetryAfter is how long a denied client must wait before the same request would be
// admitted: the longest wait over the denying windows, or the penalty cooldown left.
// It is zero for a request that was not denied.
func (d *Decision) RetryAfter() time.Duration {
	if d == nil || d.Outcome != Denied && d.Outcome != ShadowDenied {
		return 0
	}
	wait := d.Result.Cooldown
	for i := range d.windows() {
		wait = max(wait, d.Result.Windows[i].RetryAfter)
	}
	return wait
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
	if d == nil || d.Policy == nil {
		return nil
	}
	return d.Policy.Windows[:min(len(d.Policy.Windows), rate.MaxWindows)]
}

// settings is the configuration the decision was made under; the defaults for a
// Decision built by hand (in a test of a custom denied handler, say).
func (d *Decision) settings() *snapshot {
	if d.snapshot == nil {
		return &handBuilt
	}
	return d.snapshot
}

var handBuilt = snapshot{xRateLimitHeaders: true, ietfHeaders: true}

// chooseBinding picks the window with the fewest remaining units; on a tie, the one that
// takes longer to fill.
func (d *Decision) chooseBinding() {
	d.binding = 0
	for i := 1; i < len(d.Policy.Windows); i++ {
		r, b := d.Result.Windows[i], d.Result.Windows[d.binding]
		if r.Remaining < b.Remaining || r.Remaining == b.Remaining && r.ResetAfter > b.ResetAfter {
			d.binding = uint8(i)
		}
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
