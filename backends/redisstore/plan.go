package redisstore

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ratewarden/ratewarden/core/rate"
)

// plan is what the store derives once from a policy: the script, the key suffixes and the
// policy's arguments, which a script call sends once for all its requests under the
// policy. Plans are cached by policy address (policies are immutable).
type plan struct {
	script    *script
	algorithm rate.Algorithm
	windows   int
	suffixes  []string // ":<seconds>" per window, then ":penalty"
	keysLen   int      // bytes of the suffixes
	args      []any    // the policy's arguments, P in lua/prelude.lua
}

// newPlan builds the plan of p.
func newPlan(p *rate.Policy) *plan {
	pl := &plan{script: scripts[p.Algorithm], algorithm: p.Algorithm, windows: len(p.Windows)}
	pl.args = append(pl.args, signature(p), strconv.Itoa(len(p.Windows)))
	for _, w := range p.Windows {
		pl.suffixes = append(pl.suffixes, ":"+strconv.FormatInt(w.Seconds(), 10))
		pl.args = append(pl.args, strconv.FormatInt(w.Limit, 10), strconv.FormatInt(w.Period.Microseconds(), 10))
	}
	if pen := p.Penalty; pen != nil {
		pl.suffixes = append(pl.suffixes, ":penalty")
		cs := cooldowns(pen)
		pl.args = append(pl.args, strconv.Itoa(len(cs)), strconv.Itoa(pen.Capacity()), strconv.FormatInt(pen.Period.Microseconds(), 10), strconv.Itoa(pen.Threshold))
		for _, c := range cs {
			pl.args = append(pl.args, strconv.FormatInt(c, 10))
		}
	} else {
		pl.args = append(pl.args, "0")
	}
	for _, s := range pl.suffixes {
		pl.keysLen += len(s)
	}
	return pl
}

// cooldowns lists, in µs, the cooldown the threshold-th, (threshold+1)-th, … violation
// starts, as core computes it (so the script needs no floating-point power of its own),
// up to the first that reaches MaxCooldown or the violation log's capacity: the script
// repeats the last one beyond.
func cooldowns(pen *rate.PenaltyPolicy) []int64 {
	var cs []int64
	for n := pen.Threshold; n <= pen.Capacity(); n++ {
		c := pen.Cooldown(n)
		cs = append(cs, c.Microseconds())
		if c >= pen.MaxCooldown {
			break
		}
	}
	return cs
}

// signature identifies everything in p, so that the penalty script can tell its state was
// written under another policy and keep the newest violations the new one counts (the
// windows' states need none: they carry over by window length). Rule names are left out:
// renaming a rule changes no counter.
func signature(p *rate.Policy) string {
	h := fnv.New64a()
	var b [8]byte
	put := func(v uint64) {
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	put(uint64(p.Algorithm))
	for _, w := range p.Windows {
		put(uint64(w.Limit))
		put(uint64(w.Period))
	}
	if pen := p.Penalty; pen != nil {
		put(uint64(pen.Threshold))
		put(uint64(pen.Period))
		put(uint64(pen.BaseCooldown))
		put(math.Float64bits(pen.Multiplier))
		put(uint64(pen.MaxCooldown))
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

// keys returns the keys of one decision: "<prefix>:{<key>}:<seconds>" per window, then
// "<prefix>:{<key>}:penalty".
func (pl *plan) keys(prefix, key string) []string {
	return taggedKeys(prefix, key, pl.suffixes, pl.keysLen)
}

// resetKeys returns the keys [Store.Reset] deletes: one per distinct period, then the
// penalty key.
func resetKeys(prefix, key string, periods []time.Duration) []string {
	suffixes := make([]string, 0, len(periods)+1)
	n := 0
	for _, p := range periods {
		s := ":" + strconv.FormatInt(int64(p/time.Second), 10)
		if !slices.Contains(suffixes, s) {
			suffixes = append(suffixes, s)
			n += len(s)
		}
	}
	suffixes = append(suffixes, ":penalty")
	return taggedKeys(prefix, key, suffixes, n+len(":penalty"))
}

// taggedKeys returns "<prefix>:{<key>}<suffix>" for each suffix (suffixLen bytes in all),
// carved out of one string. The braces make key a Cluster hash tag: all of them live in
// one slot.
func taggedKeys(prefix, key string, suffixes []string, suffixLen int) []string {
	base := len(prefix) + len(key) + 3
	var b strings.Builder
	b.Grow(base*len(suffixes) + suffixLen)
	for _, s := range suffixes {
		b.WriteString(prefix)
		b.WriteString(":{")
		b.WriteString(key)
		b.WriteByte('}')
		b.WriteString(s)
	}
	all := b.String()
	keys := make([]string, len(suffixes))
	off := 0
	for i, s := range suffixes {
		n := base + len(s)
		keys[i] = all[off : off+n]
		off += n
	}
	return keys
}

// opArgs is a request's 3rd argument for each op, boxed once.
var opArgs = [...]any{rate.OpTake: "0", rate.OpCheck: "1", rate.OpConsume: "2", rate.OpPeek: "3"}

// replyLen is the length of a request's reply under pl: allowed, cooldown and
// violations, then four values per window.
func (pl *plan) replyLen() int { return 3 + 4*pl.windows }

// decode fills res from the request's reply, of pl.replyLen() values (lua/prelude.lua).
func (pl *plan) decode(v []int64, res *rate.Result) {
	*res = rate.Result{
		Allowed:    v[0] == 1,
		Cooldown:   micros(v[1]),
		Violations: int(v[2]),
	}
	for i := 0; i < pl.windows; i++ {
		r := v[3+4*i:]
		res.Windows[i] = rate.WindowResult{Allowed: r[0] == 1, Remaining: r[1], ResetAfter: micros(r[2]), RetryAfter: micros(r[3])}
	}
}

// micros is us µs as a Duration, saturated at the largest and smallest Duration (about
// ±292 years) rather than wrapped. No number ratewarden writes comes near: a wait lasts at
// most twice rate.MaxWindow. But a cooldown read from another program's penalty state may
// end up to 2^54 µs, 570 years, away (lua/decide.lua), and wrapped it was negative: a
// denial telling the client to retry at once.
func micros(us int64) time.Duration {
	const most = math.MaxInt64 / int64(time.Microsecond)
	switch {
	case us > most:
		return math.MaxInt64
	case us < -most:
		return math.MinInt64
	}
	return time.Duration(us) * time.Microsecond
}
