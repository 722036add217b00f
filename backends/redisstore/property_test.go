package redisstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
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
// the response is one to count — and preceded by peeks: a check and its consume never
// admit and count more than a take would, and a peek answers what the take right after it
// gets, changing nothing.
//
// Two limiters, one over each store, receive the same random sequence through core. Time
// has two clocks: the true time of the sequence, which only goes forward, and the
// application's clock, which now and then steps back (never forward: a clock jumping ahead
// grants refills to any limiter). Over the true time, for every rule, client and window
// length, the admitted units must fit the largest limit any policy of that window length
// applied to that counter: at most limit in any window-long interval for sliding_window,
// at most twice it for fixed_window (a window boundary), 2 × limit − 1 for
// sliding_window_counter (docs/algorithms.md), and limit + elapsed × limit /
// window for the token bucket and GCRA.
//
// RATEWARDEN_PROPERTY_RUNS sets the sequences per algorithm (make fuzz runs more);
// RATEWARDEN_SEED replays one.
func TestPolicyChangesNeverOverAdmit(t *testing.T) {
	t.Parallel()
	runs := 3
	if v := os.Getenv("RATEWARDEN_PROPERTY_RUNS"); v != "" {
		var err error
		runs, err = strconv.Atoi(v)
		require.NoError(t, err)
	}
	srv := redistest.StartServer(t)
	seed := testSeed(t)
	for _, alg := range rate.Algorithms() {
		t.Run(alg.String(), func(t *testing.T) {
			t.Parallel()
			for run := range runs {
				rng := rand.New(rand.NewPCG(seed, uint64(run)<<8|uint64(alg)))
				prefix := fmt.Sprintf("%s-%d", alg, run) // the runs share one server
				newSequence(t, rng, alg, srv.Addr(), prefix).run(t, fmt.Sprintf("seed %d run %d", seed, run))
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
	tokens  map[string]string // tier ("" for none) → a signed token of user "u"
	counted map[counter]*usage
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

// usage is what one counter admitted (true times, per window length) and the largest limit
// each window length had.
type usage struct {
	admitted map[time.Duration][]time.Time
	largest  map[time.Duration]int64
}

var propertyPeriods = []time.Duration{time.Second, 2 * time.Second, 10 * time.Second, time.Minute}

func newSequence(t *testing.T, rng *rand.Rand, alg rate.Algorithm, addr, keyPrefix string) *sequence {
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
	cfg := redisConfig(config.RedisStandalone, false, addr)
	cfg.KeyPrefix = keyPrefix
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
	s.memOps.mode, s.redOps.mode = mode, mode
	var dm, dr core.Decision
	s.mem.Decide(core.Input{Request: req}, &dm)
	s.red.Decide(core.Input{Request: req}, &dr)
	where := fmt.Sprintf("%s step %d: %s as %s (%s) at app %s, true %s", label, step, path, client, mode, s.appNow.Sub(storetest.Base), s.trueNow.Sub(storetest.Base))
	require.Equal(t, dm.Outcome, dr.Outcome, where)
	require.Equal(t, dm.Result, dr.Result, where)
	require.Equal(t, s.memOps.extra, s.redOps.extra, "%s: the consume or peek", where)
	require.NotNil(t, dm.Policy, where)
	counted := dm.Outcome == core.Allowed
	switch mode {
	case checkConsume:
		counted = counted && s.memOps.extra.Allowed
	case checkOnly:
		counted = false
	case peekFirst:
		s.memOps.checkPeek(t, where)
	}

	u := s.counted[counter{ruleID, client}]
	if u == nil {
		u = &usage{admitted: map[time.Duration][]time.Time{}, largest: map[time.Duration]int64{}}
		s.counted[counter{ruleID, client}] = u
	}
	for _, w := range dm.Policy.Windows {
		u.largest[w.Period] = max(u.largest[w.Period], w.Limit)
		if counted {
			u.admitted[w.Period] = append(u.admitted[w.Period], s.trueNow)
		}
	}
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
		s.request(t, label, step)
	}
	for c, u := range s.counted {
		for period, times := range u.admitted {
			checkBound(t, s.alg, times, period, u.largest[period], fmt.Sprintf("%s: rule %s, client %s, window %s", label, c.rule, c.client, period))
		}
	}
}

// checkBound checks the admissions of one window length, at true times (in order), against
// what its largest limit allows.
func checkBound(t *testing.T, alg rate.Algorithm, times []time.Time, period time.Duration, limit int64, where string) {
	for i := range times {
		for j := i; j < len(times); j++ {
			elapsed := times[j].Sub(times[i])
			units := int64(j - i + 1)
			switch alg {
			case rate.SlidingWindow:
				if elapsed < period {
					require.LessOrEqual(t, units, limit, "%s: %d admitted within %s", where, units, elapsed)
				}
			case rate.FixedWindow:
				if elapsed < period {
					require.LessOrEqual(t, units, 2*limit, "%s: %d admitted within %s", where, units, elapsed)
				}
			case rate.SlidingWindowCounter: // the bound of docs/algorithms.md, at µs resolution
				if elapsed < period {
					require.LessOrEqual(t, units, 2*limit-1, "%s: %d admitted within %s", where, units, elapsed)
				}
			default:
				refill := int64(elapsed) * limit / int64(period)
				require.LessOrEqual(t, units, limit+refill, "%s: %d admitted within %s", where, units, elapsed)
			}
		}
	}
}

// opMode is how an opStore decides the take a limiter asks of it.
type opMode int

const (
	plainTake    opMode = iota
	checkConsume        // count_statuses with a status to count: a check, then a consume if admitted
	checkOnly           // count_statuses with a status not to count: a check alone
	peekFirst           // a peek, then the take
	numModes
)

func (m opMode) String() string {
	return [...]string{"take", "check and consume", "check only", "peek, then take"}[m]
}

// opStore turns the takes a limiter asks for into the ops of its mode; extra is the result
// of the consume (checkConsume, zero when the check denied) or of the peek (peekFirst).
type opStore struct {
	rate.Store
	mode  opMode
	extra rate.Result
	take  rate.Result // the take after the peek
	req   rate.Request
}

func (s *opStore) Take(ctx context.Context, req *rate.Request, res *rate.Result) error {
	s.extra, s.req = rate.Result{}, *req
	r := *req
	switch s.mode {
	case checkConsume, checkOnly:
		r.Op = rate.OpCheck
		if err := s.Store.Take(ctx, &r, res); err != nil || !res.Allowed || s.mode == checkOnly {
			return err
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
