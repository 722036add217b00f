package redisstore

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ratewarden/ratewarden/core/rate"
	"github.com/redis/go-redis/v9"
)

// plan is what the store derives once from a policy: the script, the key suffixes and the
// ARGV after now, cost and op. Plans are cached by policy address (policies are immutable).
type plan struct {
	script   *redis.Script
	windows  int
	suffixes []string // ":<seconds>" per window, then ":penalty"
	keysLen  int      // bytes of the suffixes
	tail     []any    // ARGV[4:]
}

// newPlan builds the plan of p.
func newPlan(p *rate.Policy) *plan {
	pl := &plan{script: scripts[p.Algorithm], windows: len(p.Windows)}
	pl.tail = append(pl.tail, signature(p), strconv.Itoa(len(p.Windows)))
	for _, w := range p.Windows {
		pl.suffixes = append(pl.suffixes, ":"+strconv.FormatInt(w.Seconds(), 10))
		pl.tail = append(pl.tail, strconv.FormatInt(w.Limit, 10), strconv.FormatInt(w.Period.Microseconds(), 10))
	}
	if pen := p.Penalty; pen != nil {
		pl.suffixes = append(pl.suffixes, ":penalty")
		pl.tail = append(pl.tail, "1", strconv.Itoa(pen.Capacity()), strconv.FormatInt(pen.Period.Microseconds(), 10), strconv.Itoa(pen.Threshold))
		for _, c := range cooldowns(pen) {
			pl.tail = append(pl.tail, strconv.FormatInt(c, 10))
		}
	} else {
		pl.tail = append(pl.tail, "0")
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

// args returns ARGV for a decision at now ("": the server's TIME) of cost units.
func (pl *plan) args(now any, cost int64, op rate.Op) []any {
	args := make([]any, 3, 3+len(pl.tail))
	args[0], args[1], args[2] = now, cost, opArgs[op]
	return append(args, pl.tail...)
}

// opArgs is ARGV[3] of each op, boxed once.
var opArgs = [...]any{rate.OpTake: "0", rate.OpCheck: "1", rate.OpConsume: "2", rate.OpPeek: "3"}

// decode fills res from the script's reply, an array of integers.
func (pl *plan) decode(reply []any, res *rate.Result) error {
	if len(reply) != 3+4*pl.windows {
		return fmt.Errorf("redisstore: the script answered %d values, want %d", len(reply), 3+4*pl.windows)
	}
	var v [3 + 4*rate.MaxWindows]int64
	for i, x := range reply {
		n, ok := x.(int64)
		if !ok {
			return fmt.Errorf("redisstore: the script answered %T, want integers", x)
		}
		v[i] = n
	}
	*res = rate.Result{
		Allowed:    v[0] == 1,
		Cooldown:   micros(v[1]),
		Violations: int(v[2]),
	}
	for i := 0; i < pl.windows; i++ {
		r := v[3+4*i:]
		res.Windows[i] = rate.WindowResult{Allowed: r[0] == 1, Remaining: r[1], ResetAfter: micros(r[2]), RetryAfter: micros(r[3])}
	}
	return nil
}

func micros(us int64) time.Duration { return time.Duration(us) * time.Microsecond }
