package rate

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// MaxWindows is the most windows one rule may have: enough for a per-second,
// per-minute, per-hour and per-day limit, and small enough that a decision fits in one
// 768-byte allocation.
const MaxWindows = 4

// Store keeps the counters behind decisions. Implementations are safe for concurrent use.
//
// Take decides one request against every window of req.Policy at once, as req.Op says
// (see [Op]): [OpTake], the default, admits the request only if every window allows
// req.Cost more units, and then consumes them in all windows; a denied request consumes
// nothing. It fills res and returns a non-nil error when it could not decide (the
// backend is unreachable, the time budget ran out; the core.Limiter then applies the
// configured fail mode), or when req is invalid: a cost no window could ever admit is
// [ErrCost] (a Limiter never asks one: validation bounds every rule's cost). Like
// io.Reader with its buffer, Take must not keep req or res, nor write res, once it has
// returned: the Limiter reuses both for its next decision (it keeps what it needs of res).
//
// Reset forgets the windows and the penalty of one key, so that its next request is decided
// as a fresh client's (a cleared login counter, an unblocked customer). periods lists the
// window lengths to forget: the union of the windows of every policy the key may be decided
// under (a rule's own limits and its tiers'). An in-process store forgets the whole key
// whatever periods says; the Redis store deletes one key per listed length plus the
// penalty, so the state of a length no policy uses any more is left to expire by its TTL.
// Every period must be whole seconds, at least one (as [NewPolicy] requires).
//
// The conformance suite in package storetest states the contract case by case; every
// backend passes it.
type Store interface {
	Take(ctx context.Context, req *Request, res *Result) error
	Reset(ctx context.Context, key string, periods []time.Duration) error
	Close() error
}

// Op is what a [Store] does with a [Request]. The zero value is [OpTake].
//
// OpCheck and OpConsume split one OpTake in two around a handler, for rules that count
// only some responses (count_statuses, SPEC section 4): the check decides before the
// handler without consuming, the consume counts after it if the response is one to count.
// Concurrent requests may each pass the check before any of them is consumed, so the
// requests admitted and counted can exceed a limit by the number in flight (SPEC section
// 4); sequential ones are exact. The consume counts beyond full (see OpConsume) so that
// this bound holds in every window: over any window-long interval the requests admitted
// and counted are at most what takes alone could admit (the limit; plus the refill for
// the token bucket and GCRA; twice the limit for fixed_window and 2 × limit − 1 for
// sliding_window_counter, whose admissions may span two aligned windows) plus the
// requests in flight (checked, not yet counted) at the checks — counted once, twice for
// the two aligned windows.
//
// For every op Result.Windows describe the state the decision saw or left: after the
// request's cost when it was consumed (an admitted OpTake, an OpConsume), before it
// otherwise (an admitted OpCheck or OpPeek shows the state at the check, SPEC section 4,
// and a denial leaves the state as it was). Remaining is never negative: a window beyond
// full shows 0.
//
// "Writes nothing" and "leaves the state as it was", said of a check that admits, of a
// denial and of a consume that counts nothing, mean: no unit counted, no time of last
// change, no TTL lengthened, no violation (but a denial's own). Each of them, and every
// decision but a peek, does remove what a window no longer holds at the decision's time: a
// sliding window's admissions that have left it (with its total; the key deleted once it
// holds none). That changes no answer at that time or later; a later decision whose clock
// stepped back is answered without them, as at the removing decision's time (SPEC section
// 1.5: a key's time is monotonic). It is what bounds a decision's cost: each admission is
// read once after it leaves the window, so a client denied for long — by another window,
// a cooldown, a window consumed beyond full — or admitted by checks whose responses are
// not counted costs amortised O(1) per admission it ever made, not a walk over its past at
// every request. A peek removes nothing: it reads at most the admissions that were in the
// window at the key's last other decision (at most twice the limit).
type Op uint8

// The operations.
const (
	// OpTake admits the request if every window allows Cost and no cooldown is in force,
	// and then consumes Cost in every window. A denial by the windows is a penalty
	// violation, which may start a cooldown.
	OpTake Op = iota
	// OpCheck decides exactly as OpTake — a denial is a violation and may start a
	// cooldown — but an admitted request consumes nothing (and writes nothing but the
	// removal of what left a window, see [Op]). It is the check of a count_statuses rule
	// before its handler.
	OpCheck
	// OpConsume counts Cost in every window unconditionally, beyond full too, up to a cap
	// of twice the window's limit: the window then owes what it counted beyond its limit,
	// and denies later takes and checks until that has drained (a token bucket refills
	// from below zero, a sliding log waits until enough of its entries have left the
	// window, a fixed window until it ends, a sliding window counter until the count's
	// weight is low enough), with RetryAfter and ResetAfter exact. A consume that reaches
	// the cap counts what fits under it and reports Allowed false; otherwise Allowed is
	// true (the cost was counted in full in every window). Windows[i].Allowed and
	// RetryAfter are the window's verdict before the cost, as a check's at that moment:
	// false when the consume put the window beyond full. A consume that counts nothing
	// (every unit of it beyond the cap) writes nothing (see [Op]: but what left a window). It neither reads nor changes the
	// penalty: a consume beyond full is no violation (the request was admitted at its
	// check), and a cooldown started since the check does not stop it from counting. Its
	// Result has Cooldown and Violations zero.
	//
	// Counting beyond full is what keeps the in-flight bound: a consume that counted only
	// while the window had room let a whole concurrent burst through its checks each time
	// one unit came back, and counted the overflow of a short window in no longer window
	// either. The cap keeps every algorithm's state within the range its arithmetic is
	// exact in, in Go and in the doubles of the Redis scripts: a bucket's used units ×
	// window reach 2 × limit × window ≤ 2^53 µs (validation keeps limit × window ≤ 2^52),
	// a fixed window's count 2 × limit ≤ 2^53, a sliding log holds at most 2 ×
	// [MaxSlidingLimit] units in its window. It is reached only when the requests in
	// flight at once carry more units than the limit (or a limit was lowered, or the clock
	// stepped back, meanwhile); the requests beyond it are admitted and not counted, so
	// the bound then no longer holds for them.
	OpConsume
	// OpPeek answers what an OpTake would answer at req.Now and writes nothing at all: no
	// unit, no violation, no new key, no TTL, no "last change" time, and no removal of
	// what left a window (so it reads what the key's last other decision left: at most
	// twice the limit of admissions). It is Limiter.Status. Its Windows show the units left now (before the request's cost),
	// the time until each window is full and, for a window that would deny, its
	// retry-after. Allowed is false during a cooldown or when a window denies; Cooldown
	// is the cooldown in force (zero when none: a denial that would start one does not
	// show it) and Violations the violations that count at req.Now — the client's
	// penalty state, not the one a take would leave.
	OpPeek
)

var opNames = [...]string{OpTake: "take", OpCheck: "check", OpConsume: "consume", OpPeek: "peek"}

// String returns the op's name: "take", "check", "consume" or "peek".
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// Request is one decision asked of a [Store].
type Request struct {
	// Key names the counters: "<scope>:<id>:<rule>", e.g. "ip:203.0.113.7:default".
	// It may share memory with a buffer the caller reuses: a store that keeps the key
	// beyond Take must copy it (strings.Clone).
	Key string
	// Policy holds the algorithm, windows and penalty of the rule. It is immutable and
	// shared by every request of the rule and tier, so stores may use its address to cache
	// what they derive from it.
	Policy *Policy
	// Cost is the number of units the request consumes in every window; at least 1.
	Cost int64
	// Now is the decision time as the application sees it. In-process stores use it;
	// the Redis store uses the Redis server's clock instead.
	Now time.Time
	// Op is what to do: take (the zero value), check, consume or peek.
	Op Op
}

// Result is what a [Store] answers for one [Request].
type Result struct {
	// Allowed reports whether the request was admitted: its cost consumed for OpTake,
	// counted in full for OpConsume (false only at the cap, see [OpConsume]), admissible
	// for OpCheck and OpPeek.
	Allowed bool
	// Windows holds one entry per window of the policy, in the policy's order.
	Windows [MaxWindows]WindowResult
	// Cooldown is the penalty cooldown left (zero when none is in force). A request
	// denied during a cooldown, or whose denial started one, has Cooldown > 0.
	Cooldown time.Duration
	// Violations is the number of violations that count toward the penalty, including this
	// request's when it was one.
	Violations int
	// Fallback reports that the request was decided in-process because the backend was
	// unavailable (fail_mode = "local").
	Fallback bool
}

// WindowResult is the state of one window at a decision (see [Op] for before or after
// the request's cost).
type WindowResult struct {
	// Allowed reports whether this window alone would admit the request.
	Allowed bool
	// Remaining is the number of units left in the window after the decision (before the
	// cost for an admitted OpCheck or OpPeek); a denied request leaves it as it was, so it
	// can be above 0 when the cost exceeded it. It is 0, never negative, for a window
	// beyond full.
	Remaining int64
	// ResetAfter is the time until the window is full again (all Limit units available).
	ResetAfter time.Duration
	// RetryAfter is, for a window that denied, the time until it would admit the same
	// request; zero for a window that allowed.
	RetryAfter time.Duration
}

// CheckPeriods returns an error naming the first of periods that is no window length
// [NewPolicy] accepts (whole seconds from one second to [MaxWindow]). Stores call it in
// Reset.
func CheckPeriods(periods []time.Duration) error {
	for _, d := range periods {
		if d < time.Second || d%time.Second != 0 || d > MaxWindow {
			return fmt.Errorf("ratewarden: reset: window must be whole seconds from 1s to %s, got %s", MaxWindow, d)
		}
	}
	return nil
}
