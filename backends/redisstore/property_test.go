package redisstore_test

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/memorystore"
	"github.com/ratewarden/ratewarden/backends/redisstore"
	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/jwtauth"
	"github.com/ratewarden/ratewarden/core/rate"
	"github.com/ratewarden/ratewarden/core/storetest"
)

// TestPolicyChangesNeverOverAdmit is the property that matters most (SPEC section 1.5): no
// sequence of requests, reloads (rules renamed, added, removed, limits raised and lowered,
// the algorithm kept), tier flips and backward clock steps ever admits more than the
// policies allow, and the memory and Redis backends give the same answer to every request.
// Requests are also decided as count_statuses decides them — a check, then a consume when
// the response is one to count, at once or at a later step (a request in flight while
// others are decided) — and preceded by peeks: a peek answers what the take right after
// it gets, changing nothing.
//
// Two limiters, one over each store, receive the same random sequence through core. Time
// has two clocks: the true time of the sequence, which only goes forward, and the
// application's clock, which now and then steps back (never forward: a clock jumping ahead
// grants refills to any limiter). Over the true time, for every rule, client and window
// length, the admitted units must fit the largest limit any policy of that window length
// applied to that counter: at most limit in any window-long interval for sliding_window,
// at most twice it for fixed_window (a window boundary), 2 × limit − 1 for
// sliding_window_counter (docs/algorithms.md), and limit + elapsed × limit /
// window for the token bucket and GCRA. The admitted units are the takes admitted and the
// checks whose consume counted (in full), each at the time it was admitted. Consumes count
// beyond full (core/rate/store.go), so the bound holds up to the consumes in flight (SPEC
// section 4): over admissions i..j it grows by F, the most consumes of the counter in
// flight at one of their checks (checked, not yet consumed, other than the admission
// itself), and by 2F for fixed_window and sliding_window_counter, whose bound spans two
// aligned windows, each of which may have had F in flight. For a counter none of whose
// consumes was cut short by the cap of twice the limit (which takes more in flight than
// the cap's slack, after a limit was lowered or the clock stepped back), the bound holds
// for every check whose consume was sent, counted or not: no admitted request escapes it.
//
// RATEWARDEN_PROPERTY_RUNS sets the sequences per algorithm (make fuzz runs more);
// RATEWARDEN_SEED replays one.
func TestPolicyChangesNeverOverAdmit(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	policyChangesNeverOverAdmit(t, redisConfig(config.RedisStandalone, false, srv.Addr()), 3)
}

// policyChangesNeverOverAdmit is TestPolicyChangesNeverOverAdmit on the Redis cfg
// describes, with runs sequences per algorithm unless RATEWARDEN_PROPERTY_RUNS says.
func policyChangesNeverOverAdmit(t *testing.T, cfg config.Config, runs int) {
	if v := os.Getenv("RATEWARDEN_PROPERTY_RUNS"); v != "" {
		var err error
		runs, err = strconv.Atoi(v)
		require.NoError(t, err)
	}
	seed := testSeed(t)
	for _, alg := range rate.Algorithms() {
		t.Run(alg.String(), func(t *testing.T) {
			t.Parallel()
			for run := range runs {
				rng := rand.New(rand.NewPCG(seed, uint64(run)<<8|uint64(alg)))
				cfg := cfg
				cfg.KeyPrefix = fmt.Sprintf("%s-%d", alg, run) // the runs share one Redis
				newSequence(t, rng, alg, cfg).run(t, fmt.Sprintf("seed %d run %d", seed, run))
			}
		})
	}
}

const propertySecret = "a-secret-of-at-least-32-bytes-for-hs256"

// sequence is one random run: the model of the configuration and what was admitted.
type sequence struct {
	rng     *rand.Rand
	alg     rate.Algorithm
	mem     *core.Limiter
	red     *core.Limiter
	memOps  *opStore // the stores under mem and red, which decide the ops of the sequence
	redOps  *opStore
	appNow  time.Time // the application's clock, read by both limiters
	trueNow time.Time // the sequence's own time, never stepping back

	rules   []*modelRule // the endpoint rules in force, in configuration order
	def     modelLimits  // the default rule's limits and tier overrides
	nextID  int
	checks  int               // the requests decided so far: the order of admissions at one instant
	tokens  map[string]string // tier ("" for none) → a signed token of user "u"
	counted map[counter]*usage
	flying  []inFlight // the deferred consumes not yet sent, in the order of memOps.pending
}

// inFlight is a request whose check admitted it and whose consume is still to come.
type inFlight struct {
	c        counter
	policy   *rate.Policy // of the check (memOps' and redOps' policies are equal)
	at       time.Time    // true time of the check
	order    int          // the check's place in the sequence
	inFlight int          // the counter's other consumes in flight at the check
}

type modelLimits struct {
	own   []config.WindowConfig
	tiers map[string][]config.WindowConfig
}

// modelRule is an endpoint rule; its id survives renames and limit changes, which keep
// its counter.
type modelRule struct {
	id      string
	name    string
	pattern string
	limits  modelLimits
}

// counter is one rule and client: what the store counts under one key.
type counter struct{ rule, client string }

// usage is what one counter admitted (per window length) and the largest limit each window
// length had.
type usage struct {
	admitted map[time.Duration][]admission
	largest  map[time.Duration]int64
	short    bool // a consume reached a window's cap
}

// admission is one unit admitted and sent to be counted: its true time, the counter's
// consumes in flight then, other than its own, and whether it was counted in full.
type admission struct {
	at       time.Time
	order    int // its check's place in the sequence: admissions at one instant are in that order
	inFlight int
	counted  bool
	limit    int64 // the limit of the window it is recorded under, in the policy in force then
}

var propertyPeriods = []time.Duration{time.Second, 2 * time.Second, 10 * time.Second, time.Minute}

// newSequence returns a sequence of alg whose Redis store cfg describes.
func newSequence(t *testing.T, rng *rand.Rand, alg rate.Algorithm, cfg config.Config) *sequence {
	s := &sequence{rng: rng, alg: alg, appNow: storetest.Base, trueNow: storetest.Base, tokens: map[string]string{}, counted: map[counter]*usage{}}
	for _, tier := range []string{"", "gold", "silver"} {
		claims := jwt.MapClaims{"sub": "u"}
		if tier != "" {
			claims["tier"] = tier
		}
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(propertySecret))
		require.NoError(t, err)
		s.tokens[tier] = tok
	}
	s.def = s.randomLimits()
	for range 2 {
		s.addRule()
	}
	clock := func() time.Time { return s.appNow }
	mem := memorystore.New(config.MemoryConfig{SweepInterval: time.Hour}, memorystore.WithClock(clock))
	red := newStore(t, cfg, redisstore.WithRequestTime())
	s.memOps, s.redOps = &opStore{Store: mem}, &opStore{Store: red}
	var err error
	quiet := core.WithLogger(slog.New(slog.DiscardHandler))
	s.mem, err = core.New(s.config(), core.WithStore(s.memOps), core.WithClock(clock), quiet)
	require.NoError(t, err)
	s.red, err = core.New(s.config(), core.WithStore(s.redOps), core.WithClock(clock), quiet)
	require.NoError(t, err)
	t.Cleanup(func() { _, _, _ = s.mem.Close(), s.red.Close(), mem.Close() })
	return s
}

func (s *sequence) randomWindows() []config.WindowConfig {
	periods := slices.Clone(propertyPeriods)
	s.rng.Shuffle(len(periods), func(i, j int) { periods[i], periods[j] = periods[j], periods[i] })
	ws := make([]config.WindowConfig, 1+s.rng.IntN(2))
	for i := range ws {
		ws[i] = config.WindowConfig{Limit: 1 + s.rng.Int64N(6), Window: periods[i]}
	}
	return ws
}

func (s *sequence) randomLimits() modelLimits {
	l := modelLimits{own: s.randomWindows(), tiers: map[string][]config.WindowConfig{}}
	for _, tier := range []string{"gold", "silver"} {
		if s.rng.IntN(2) == 0 {
			l.tiers[tier] = s.randomWindows()
		}
	}
	return l
}

func (s *sequence) addRule() {
	s.nextID++
	id := strconv.Itoa(s.nextID)
	s.rules = append(s.rules, &modelRule{id: id, name: s.ruleName(), pattern: "/r" + id, limits: s.randomLimits()})
}

// ruleName picks a name from a small set, so that a renamed rule's old name is often taken
// by another rule later.
func (s *sequence) ruleName() string {
	for {
		name := fmt.Sprintf("rule-%d", s.rng.IntN(8)) // at most 5 rules: one is free
		if !slices.ContainsFunc(s.rules, func(r *modelRule) bool { return r.name == name }) {
			return name
		}
	}
}

func limitsOf(ws []config.WindowConfig) config.Limits {
	if len(ws) == 1 {
		return config.Limits{Limit: ws[0].Limit, Window: ws[0].Window}
	}
	return config.Limits{Windows: ws}
}

func (s *sequence) config() config.Config {
	tiers := func(m map[string][]config.WindowConfig) map[string]config.Limits {
		out := map[string]config.Limits{}
		for tier, ws := range m {
			out[tier] = limitsOf(ws)
		}
		return out
	}
	cfg := config.Config{
		Algorithm: config.Algorithm(s.alg.String()),
		Default:   limitsOf(s.def.own),
		Tiers:     tiers(s.def.tiers),
		JWT:       jwtauth.Config{Enabled: true, Secret: propertySecret},
	}
	for _, r := range s.rules {
		cfg.Endpoints = append(cfg.Endpoints, config.Endpoint{Name: r.name, Pattern: r.pattern, Limits: limitsOf(r.limits.own), Tiers: tiers(r.limits.tiers)})
	}
	return cfg
}

// reload changes the model at random and reloads both limiters with it.
func (s *sequence) reload(t *testing.T) {
	switch op := s.rng.IntN(5); {
	case op == 0 && len(s.rules) > 0: // rename: the counter stays
		s.rules[s.rng.IntN(len(s.rules))].name = s.ruleName()
	case op == 1 && len(s.rules) > 0: // new limits, up or down, same algorithm
		s.rules[s.rng.IntN(len(s.rules))].limits = s.randomLimits()
	case op == 2 && len(s.rules) > 1:
		i := s.rng.IntN(len(s.rules))
		s.rules = slices.Delete(s.rules, i, i+1)
	case op == 3:
		s.def = s.randomLimits()
	case len(s.rules) < 5:
		s.addRule()
	}
	cfg := s.config()
	require.NoError(t, s.mem.Reload(cfg))
	require.NoError(t, s.red.Reload(cfg))
}

// request sends one request to both limiters and records what it admitted.
func (s *sequence) request(t *testing.T, label string, step int) {
	s.checks++
	path, ruleID := "/other", "default"
	if n := len(s.rules); n > 0 && s.rng.IntN(4) > 0 {
		r := s.rules[s.rng.IntN(n)]
		path, ruleID = r.pattern, r.id
	}
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = "203.0.113.7:1234"
	client := "ip"
	if tier := []string{"", "gold", "silver", "-"}[s.rng.IntN(4)]; tier != "-" {
		req.Header.Set("Authorization", "Bearer "+s.tokens[tier])
		client = "user"
	}
	mode := opMode(s.rng.IntN(int(numModes)))
	if mode == checkDeferred && len(s.flying) >= 3 {
		mode = checkConsume
	}
	s.memOps.mode, s.redOps.mode = mode, mode
	var dm, dr core.Decision
	s.mem.Decide(core.Input{Request: req}, &dm)
	s.red.Decide(core.Input{Request: req}, &dr)
	where := fmt.Sprintf("%s step %d: %s as %s (%s) at app %s, true %s", label, step, path, client, mode, s.appNow.Sub(storetest.Base), s.trueNow.Sub(storetest.Base))
	require.Equal(t, dm.Outcome, dr.Outcome, where)
	require.Equal(t, s.memOps.answer, s.redOps.answer, where)
	require.Equal(t, [4]any{dm.Remaining(), dm.Reset(), dm.RetryAfter(), dm.Cooldown()},
		[4]any{dr.Remaining(), dr.Reset(), dr.RetryAfter(), dr.Cooldown()}, where)
	require.Equal(t, s.memOps.extra, s.redOps.extra, "%s: the consume or peek", where)
	require.NotNil(t, dm.Policy(), where)
	c := counter{ruleID, client}
	flying := 0
	for _, f := range s.flying {
		if f.c == c {
			flying++
		}
	}
	counted, full := dm.Outcome == core.Allowed, true
	u := s.usage(c)
	switch mode {
	case checkConsume:
		full = s.memOps.extra.Allowed
		u.short = u.short || counted && !full
	case checkOnly:
		counted = false
	case checkDeferred:
		if counted {
			s.flying = append(s.flying, inFlight{c: c, policy: s.memOps.req.Policy, at: s.trueNow, order: s.checks, inFlight: flying})
		}
		counted = false // when its consume counts
	case peekFirst:
		s.memOps.checkPeek(t, where)
	}
	for _, w := range dm.Policy().Windows {
		u.largest[w.Period] = max(u.largest[w.Period], w.Limit)
	}
	if counted {
		u.add(dm.Policy(), admission{at: s.trueNow, order: s.checks, inFlight: flying, counted: full})
	}
}

func (s *sequence) usage(c counter) *usage {
	u := s.counted[c]
	if u == nil {
		u = &usage{admitted: map[time.Duration][]admission{}, largest: map[time.Duration]int64{}}
		s.counted[c] = u
	}
	return u
}

func (u *usage) add(p *rate.Policy, a admission) {
	for _, w := range p.Windows {
		a.limit = w.Limit
		u.admitted[w.Period] = append(u.admitted[w.Period], a)
	}
}

// complete sends the consume of the i-th request in flight to both stores, now: its
// response came back.
func (s *sequence) complete(t *testing.T, i int, label string) {
	f := s.flying[i]
	s.flying = slices.Delete(s.flying, i, i+1)
	var rm, rr rate.Result
	s.memOps.consume(t, i, s.appNow, &rm)
	s.redOps.consume(t, i, s.appNow, &rr)
	require.Equal(t, rm, rr, "%s: the consume of %s checked at true %s, at app %s", label, f.c, f.at.Sub(storetest.Base), s.appNow.Sub(storetest.Base))
	u := s.usage(f.c)
	u.add(f.policy, admission{at: f.at, order: f.order, inFlight: f.inFlight, counted: rm.Allowed})
	u.short = u.short || !rm.Allowed
}

func (s *sequence) run(t *testing.T, label string) {
	for step := range 400 {
		var d time.Duration
		switch r := s.rng.IntN(100); {
		case r < 35: // the same instant
		case r < 70:
			d = time.Duration(s.rng.Int64N(int64(time.Second)))
		case r < 90:
			d = time.Duration(s.rng.Int64N(int64(20 * time.Second)))
		default:
			d = time.Duration(s.rng.Int64N(int64(2 * time.Minute)))
		}
		s.trueNow, s.appNow = s.trueNow.Add(d), s.appNow.Add(d)
		if s.rng.IntN(25) == 0 { // the application's clock steps back
			s.appNow = s.appNow.Add(-time.Duration(s.rng.Int64N(int64(3 * time.Minute))))
		}
		if s.rng.IntN(15) == 0 {
			s.reload(t)
		}
		if len(s.flying) > 0 && s.rng.IntN(3) == 0 {
			s.complete(t, s.rng.IntN(len(s.flying)), fmt.Sprintf("%s step %d", label, step))
		}
		s.request(t, label, step)
	}
	for len(s.flying) > 0 {
		s.complete(t, 0, label+" at the end")
	}
	for c, u := range s.counted {
		for period, as := range u.admitted {
			// By true time, and at one instant in the order the requests were checked: a
			// deferred consume is recorded when it is sent, after the requests checked at
			// its instant behind it, yet it was admitted before them.
			slices.SortFunc(as, func(a, b admission) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.order, b.order)) })
			where := fmt.Sprintf("%s: rule %s, client %s, window %s", label, c.rule, c.client, period)
			checkBound(t, s.alg, slices.DeleteFunc(slices.Clone(as), func(a admission) bool { return !a.counted }), period, u.largest[period], where+", counted")
			if !u.short {
				checkBound(t, s.alg, as, period, u.largest[period], where+", sent")
			}
		}
	}
}

// checkBound checks the admissions of one window length, at true times (in order), against
// what its largest limit allows, and the consumes in flight at them. The sliding log and the
// fixed window are also held to the policy in force at each admission j (SPEC section
// 1.5: the state of a window length carries over, so a limit lowered applies at once to
// what the counter admitted before): a sliding log admits j only when the window ending at
// it holds at most as[j].limit, and a fixed window only when j's aligned window does, the
// one before it holding at most the largest limit in force at its own admissions. (The
// application's clock only steps back, so a true interval shorter than the window is
// shorter in the stores' monotonic time too.)
func checkBound(t *testing.T, alg rate.Algorithm, as []admission, period time.Duration, limit int64, where string) {
	for i := range as {
		flying := int64(0)  // the most in flight at one of the admissions i..j
		inForce := int64(0) // the largest limit in force at one of the admissions i..j
		for j := i; j < len(as); j++ {
			flying = max(flying, int64(as[j].inFlight))
			inForce = max(inForce, as[j].limit)
			elapsed := as[j].at.Sub(as[i].at)
			units := int64(j - i + 1)
			switch alg {
			case rate.SlidingWindow:
				if elapsed < period {
					require.LessOrEqual(t, units, limit+flying, "%s: %d admitted within %s, %d in flight", where, units, elapsed, flying)
					require.LessOrEqual(t, units, as[j].limit+flying, "%s: %d admitted within %s, the last under limit %d, %d in flight", where, units, elapsed, as[j].limit, flying)
				}
			case rate.FixedWindow:
				if elapsed < period {
					require.LessOrEqual(t, units, 2*limit+2*flying, "%s: %d admitted within %s, %d in flight", where, units, elapsed, flying)
					require.LessOrEqual(t, units, inForce+as[j].limit+2*flying, "%s: %d admitted within %s, the last under limit %d, at most %d before, %d in flight", where, units, elapsed, as[j].limit, inForce, flying)
				}
			case rate.SlidingWindowCounter: // the bound of docs/algorithms.md, at µs resolution
				if elapsed < period {
					require.LessOrEqual(t, units, 2*limit-1+2*flying, "%s: %d admitted within %s, %d in flight", where, units, elapsed, flying)
				}
			default:
				refill := int64(elapsed) * limit / int64(period)
				require.LessOrEqual(t, units, limit+refill+flying, "%s: %d admitted within %s, %d in flight", where, units, elapsed, flying)
			}
		}
	}
}

// opMode is how an opStore decides the take a limiter asks of it.
type opMode int

const (
	plainTake     opMode = iota
	checkConsume         // count_statuses with a status to count: a check, then a consume if admitted
	checkOnly            // count_statuses with a status not to count: a check alone
	peekFirst            // a peek, then the take
	checkDeferred        // count_statuses with a status to count, the consume at a later step
	numModes
)

func (m opMode) String() string {
	return [...]string{"take", "check and consume", "check only", "peek, then take", "check, consume later"}[m]
}

// opStore turns the takes a limiter asks for into the ops of its mode; answer is what the
// limiter got, extra the result of the consume (checkConsume, zero when the check denied)
// or of the peek (peekFirst). pending holds the consumes of checkDeferred checks that
// admitted, to be sent later.
type opStore struct {
	rate.Store
	mode    opMode
	answer  rate.Result
	extra   rate.Result
	take    rate.Result // the take after the peek
	req     rate.Request
	pending []rate.Request
}

// consume sends the i-th pending consume at now.
func (s *opStore) consume(t *testing.T, i int, now time.Time, res *rate.Result) {
	r := s.pending[i]
	s.pending = slices.Delete(s.pending, i, i+1)
	r.Op, r.Now = rate.OpConsume, now
	require.NoError(t, s.Store.Take(context.Background(), &r, res))
}

func (s *opStore) Take(ctx context.Context, req *rate.Request, res *rate.Result) error {
	defer func() { s.answer = *res }()
	s.extra, s.req = rate.Result{}, *req
	r := *req
	switch s.mode {
	case checkConsume, checkOnly, checkDeferred:
		r.Op = rate.OpCheck
		if err := s.Store.Take(ctx, &r, res); err != nil || !res.Allowed || s.mode == checkOnly {
			return err
		}
		if s.mode == checkDeferred {
			r.Key = strings.Clone(r.Key) // kept beyond Take (rate.Request.Key)
			s.pending = append(s.pending, r)
			return nil
		}
		r.Op = rate.OpConsume
		return s.Store.Take(ctx, &r, &s.extra)
	case peekFirst:
		r.Op = rate.OpPeek
		if err := s.Store.Take(ctx, &r, &s.extra); err != nil {
			return err
		}
	}
	err := s.Store.Take(ctx, req, res)
	s.take = *res
	return err
}

// checkPeek requires that the peek answered what the take after it got: the same verdicts
// and waits, and the units left before the take's cost.
func (s *opStore) checkPeek(t *testing.T, where string) {
	peek, take := s.extra, s.take
	require.Equal(t, take.Allowed, peek.Allowed, "%s: the peek's verdict", where)
	for i := range s.req.Policy.Windows {
		pw, tw := peek.Windows[i], take.Windows[i]
		require.Equal(t, tw.Allowed, pw.Allowed, "%s: window %d", where, i)
		require.Equal(t, tw.RetryAfter, pw.RetryAfter, "%s: window %d", where, i)
		want := pw.Remaining
		if take.Allowed {
			want -= s.req.Cost
		}
		require.Equal(t, want, tw.Remaining, "%s: window %d remaining", where, i)
	}
}
