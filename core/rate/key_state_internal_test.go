package rate

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// mapKey is a plain model of a KeyState: every window length's state in a map, never
// pruned, and the penalty in a KeyState of its own. It makes the decisions Apply makes,
// step by step, on the same arithmetic, so that a difference from Apply is a fault of the
// KeyState's layout (first inline, the rest behind more), of find/add/at or of prune.
type mapKey struct {
	windows map[uint32]*windowState
	pen     KeyState // only its penalty and expiresAt are used
}

func (m *mapKey) apply(p *Policy, op Op, now, cost int64, res *Result) {
	now = max(now, 0)
	var (
		states [MaxWindows]*windowState
		views  [MaxWindows]windowView
		fresh  [MaxWindows]windowState
	)
	for i := range p.Windows {
		secs := windowSecs(&p.Windows[i])
		s := m.windows[secs]
		switch {
		case op == OpPeek && (s == nil || s.alg != p.Algorithm):
			fresh[i] = windowState{secs: secs, alg: p.Algorithm}
			s = &fresh[i]
		case s == nil:
			s = &windowState{secs: secs, alg: p.Algorithm}
			m.windows[secs] = s
		case s.alg != p.Algorithm: // read as fresh, replaced below if the decision counts units
			fresh[i] = windowState{secs: secs, alg: p.Algorithm}
			s = &fresh[i]
		}
		states[i] = s
		if op != OpPeek {
			p.Algorithm.drop(s, now)
		}
	}
	p.load(&states, &views, now, cost, res)
	switch {
	case p.Penalty == nil:
	case op == OpPeek:
		p.Penalty.peek(&m.pen, now, res)
	case op != OpConsume:
		p.Penalty.apply(&m.pen, now, res)
	}
	consume := op == OpConsume || op == OpTake && res.Allowed
	short, full := p.finish(&states, &views, cost, consume, res)
	for i := range p.Windows {
		if s := &fresh[i]; op != OpPeek && s.secs != 0 && *s != (windowState{secs: s.secs, alg: s.alg}) {
			*m.windows[s.secs] = *s // another algorithm's state, replaced: units were counted
		}
	}
	if op == OpConsume {
		res.Allowed = !short
	}
	if consume {
		m.pen.expiresAt = max(m.pen.expiresAt, full)
	}
}

// checkLayout checks what the layout of ks promises: a key holding no window length holds
// nothing in more either, every length is held once and is whole seconds, no two lengths
// share a sliding log, the slots beyond the lengths held keep no log alive, and, when the
// decision added lengths, beyond maxWindowStates lengths only live ones are kept (besides
// those of p).
func checkLayout(t *testing.T, ks *KeyState, p *Policy, now int64, added bool, where string) {
	t.Helper()
	if ks.first.secs == 0 {
		require.Zero(t, ks.len(), where)
		require.Equal(t, windowState{}, ks.first, "%s: an empty first slot holds a state", where)
		if ks.more != nil {
			require.Empty(t, ks.more.windows, "%s: windows in more without a first", where)
		}
	}
	seen := map[uint32]bool{}
	logs := map[*timeLog]bool{}
	for j := range ks.len() {
		s := ks.at(j)
		require.NotZero(t, s.secs, "%s: slot %d", where, j)
		require.False(t, seen[s.secs], "%s: %ds held twice", where, s.secs)
		seen[s.secs] = true
		if s.log != nil {
			require.False(t, logs[s.log], "%s: a log shared by two window lengths", where)
			logs[s.log] = true
			require.Equal(t, SlidingWindow, s.alg, "%s: a log under %s", where, s.alg)
		}
	}
	if ks.more != nil {
		tail := ks.more.windows[len(ks.more.windows):cap(ks.more.windows)]
		for j := range tail {
			require.Equal(t, windowState{}, tail[j], "%s: a slot beyond the lengths held keeps a state", where)
		}
	}
	if added && ks.len() > maxWindowStates {
		for j := range ks.len() {
			if s := ks.at(j); !p.hasSeconds(s.secs) {
				require.Greater(t, s.alg.expiry(s), now, "%s: %ds kept fresh beyond %d lengths", where, s.secs, maxWindowStates)
			}
		}
	}
}

// TestKeyStateDecidesAsAPlainMapOfWindowLengths runs random sequences of takes, checks,
// consumes and peeks under policies of every algorithm (mixed on one key), 1 to 4 windows
// of 16 lengths (so that keys hold more than maxWindowStates lengths and prune, their first
// slot too), penalties on and off, on a KeyState and on mapKey: every result and the
// expiry must be the same, and the layout must hold after each decision. The clock only
// goes forward: a state pruned as fresh at now would count again at an earlier time.
func TestKeyStateDecidesAsAPlainMapOfWindowLengths(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	var periods []time.Duration
	for _, s := range []int{1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 30, 45, 60, 90} {
		periods = append(periods, time.Duration(s)*time.Second)
	}
	pen := &PenaltyPolicy{Threshold: 2, Period: 20 * time.Second, BaseCooldown: time.Second, Multiplier: 2, MaxCooldown: 8 * time.Second}
	pruned, firstPruned := 0, 0
	for run := range 60 {
		mixed := run%2 == 1
		alg := Algorithms()[r.IntN(len(Algorithms()))]
		var policies []*Policy
		for range 10 {
			if mixed {
				alg = Algorithms()[r.IntN(len(Algorithms()))]
			}
			var ws []Window
			for _, i := range r.Perm(len(periods))[:1+r.IntN(MaxWindows)] {
				ws = append(ws, Window{Limit: 1 + r.Int64N(6), Period: periods[i]})
			}
			var pp *PenaltyPolicy
			if r.IntN(2) == 0 {
				pp = pen
			}
			p, err := NewPolicy(alg, ws, pp)
			require.NoError(t, err)
			policies = append(policies, p)
		}
		var ks KeyState
		m := mapKey{windows: map[uint32]*windowState{}}
		now := int64(1_700_000_000_000_000)
		for step := range 300 {
			switch x := r.IntN(10); {
			case x < 3:
			case x < 8:
				now += r.Int64N(2_000_000)
			default:
				now += r.Int64N(40_000_000)
			}
			p := policies[r.IntN(len(policies))]
			op := Op(r.IntN(4))
			cost := int64(1)
			if r.IntN(4) == 0 {
				cost = 1 + r.Int64N(p.MaxCost())
			}
			before, missing := ks.len(), 0
			for i := range p.Windows {
				if ks.find(windowSecs(&p.Windows[i])) < 0 {
					missing++
				}
			}
			firstBefore := ks.first.secs
			var got, want Result
			p.Apply(&ks, op, now, cost, &got)
			m.apply(p, op, now, cost, &want)
			where := fmt.Sprintf("seed %d run %d step %d: %s cost %d under %s %v penalty=%v", seed, run, step, op, cost, p.Algorithm, p.Windows, p.Penalty != nil)
			require.Equal(t, want, got, where)
			require.Equal(t, m.pen.expiresAt, ks.ExpiresAt(), "%s: expiry", where)
			checkLayout(t, &ks, p, now, op != OpPeek && missing > 0, where)
			if op != OpPeek && ks.len() < before+missing {
				pruned++
				if ks.find(firstBefore) < 0 {
					firstPruned++
				}
			}
		}
	}
	t.Logf("decisions that pruned: %d, of which removed the first slot: %d", pruned, firstPruned)
	require.Positive(t, pruned, "no sequence pruned")
	require.Positive(t, firstPruned, "no prune removed the first slot")
}

// TestAKeyWhosePruneRemovedTheFirstLengthKeepsTheOthers: nine lengths on one key, the
// first (1 s) fresh again when a tenth arrives, the others live: the key forgets only the
// first, moves a later one into its place, and every live window still denies — for a
// take, a check, a consume's answer and a peek — under every algorithm.
func TestAKeyWhosePruneRemovedTheFirstLengthKeepsTheOthers(t *testing.T) {
	for _, alg := range Algorithms() {
		t.Run(alg.String(), func(t *testing.T) {
			var ks KeyState
			now := int64(1_700_000_000_000_000) // a whole hour: fixed windows start here
			policy := func(secs int, pen *PenaltyPolicy) *Policy {
				p, err := NewPolicy(alg, []Window{{Limit: 1, Period: time.Duration(secs) * time.Second}}, pen)
				require.NoError(t, err)
				return p
			}
			pen := &PenaltyPolicy{Threshold: 1, Period: time.Hour, BaseCooldown: time.Second, Multiplier: 1, MaxCooldown: time.Second}
			lengths := []int{1, 600, 900, 1200, 1500, 1800, 2400, 3000, 3600}
			var res Result
			for _, secs := range lengths {
				p := policy(secs, nil)
				p.Apply(&ks, OpTake, now, 1, &res)
				require.True(t, res.Allowed, "%ds", secs)
			}
			// A violation on the 600 s window: the penalty lives in more, next to the lengths.
			policy(600, pen).Apply(&ks, OpTake, now, 1, &res)
			require.False(t, res.Allowed)
			require.NotNil(t, ks.penalty())
			require.Equal(t, 9, ks.len())
			require.Equal(t, uint32(1), ks.first.secs)

			later := now + 3*time.Second.Microseconds() // the 1 s window is fresh for every algorithm
			policy(7200, nil).Apply(&ks, OpTake, later, 1, &res)
			require.True(t, res.Allowed)
			require.Equal(t, 9, ks.len(), "only the fresh 1 s state is forgotten")
			require.Equal(t, -1, ks.find(1))
			require.NotEqual(t, uint32(1), ks.first.secs)
			for _, secs := range append(lengths[1:], 7200) {
				for _, op := range []Op{OpPeek, OpCheck, OpTake} {
					policy(secs, nil).Apply(&ks, op, later, 1, &res)
					require.False(t, res.Allowed, "%s of the live %ds window after the prune", op, secs)
				}
			}
			policy(600, pen).Apply(&ks, OpPeek, later, 1, &res)
			require.False(t, res.Allowed)
			require.Equal(t, 1, res.Violations, "the penalty survives the prune")
			policy(1, nil).Apply(&ks, OpTake, later, 1, &res)
			require.True(t, res.Allowed, "the forgotten 1 s window is fresh")
			require.Equal(t, 10, ks.len())

			// Hours on, every state is fresh: four new lengths make the key forget all ten.
			end := later + 5*time.Hour.Microseconds()
			p, err := NewPolicy(alg, []Window{{Limit: 1, Period: 5 * time.Second}, {Limit: 1, Period: 6 * time.Second}, {Limit: 1, Period: 7 * time.Second}, {Limit: 1, Period: 8 * time.Second}}, nil)
			require.NoError(t, err)
			p.Apply(&ks, OpCheck, end, 1, &res)
			require.True(t, res.Allowed)
			require.Equal(t, 4, ks.len(), "only the policy's lengths are left")
			require.Equal(t, uint32(5), ks.first.secs)
			checkLayout(t, &ks, p, end, true, "after a prune that forgot every length")
		})
	}
}
