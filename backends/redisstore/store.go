package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ratewarden/ratewarden/backends/memorystore"
	"github.com/ratewarden/ratewarden/core/backend"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

func init() {
	backend.Register(config.BackendRedis, func(cfg config.Config, env backend.Env) (rate.Store, error) {
		// core.New hands over a configuration config.Compile has validated and defaulted:
		// it is not checked a second time.
		return newOwning(cfg, []Option{WithLogger(env.Logger), WithObserver(env.Observer), WithClock(env.Now)})
	})
}

// resetOperation is the operation label of a Reset's observation; a Take's is its
// [rate.Op] ("take", "check", "consume", "peek").
const resetOperation = "reset"

// directDecisions is how many decisions at once run on a pooled connection of their
// own on a Cluster, one round trip each, before the next ones are pipelined by the
// AutoPipeliner. A
// lone decision so skips the AutoPipeliner's hand-offs between goroutines (measured:
// serial latency 125 µs through it against 48 µs direct, redis_rate 41–67 µs, on the
// loaded 2-vCPU VM), and a burst still holds at most this many pooled connections.
const directDecisions = 1

// maxPlans bounds the per-policy plans kept; the cache starts over beyond it (each
// reload brings new policies).
const maxPlans = 4096

// Store is the Redis [rate.Store]. Create it with [New] or [NewWithClient]; the zero value
// is not usable. A Store is safe for concurrent use.
//
// Take admits a request only if every window of its policy allows it and no penalty
// cooldown is in force, and then consumes in every window; a denied request consumes
// nothing. When Redis cannot decide in time, the configured fail_mode applies.
type Store struct {
	client    redis.UniversalClient
	pipe      *redis.AutoPipeliner // pipelines concurrent decisions on a Cluster; nil on one Redis or without one
	ownClient bool
	prefix    string
	budget    time.Duration
	deadlines *deadlines // the contexts that bound decisions sent alone (deadline.go)

	requestTime bool
	logger      *slog.Logger
	observer    backend.Observer
	errlog      *backend.ErrorLog
	breaker     *breaker           // one Redis's (standalone, Sentinel), or a Cluster's while no master can be named
	nodes       *nodeBreakers      // on a Cluster: one breaker per master; nil otherwise
	fn          *functions         // whether decisions call Redis Functions (functions.go)
	local       *memorystore.Store // fail_mode = "local"; nil otherwise
	cache       *denialCache       // redis.local_cache; nil when off

	plans  sync.Map // *rate.Policy → *plan
	nplans atomic.Int64

	batchers []*batcher   // per algorithm, on one Redis (batch.go); nil on a Cluster
	inflight atomic.Int64 // decisions running on a Cluster (see pipelined)
	loaded   sync.Map     // *script → struct{}: code a Cluster ran for this store (see load)
	loadMu   sync.Mutex
	loading  map[*script]chan struct{} // code a decision is loading (see load)

	closeOnce sync.Once
	closeErr  error
}

// New builds a Store and the go-redis client cfg.Redis describes, which the Store owns
// and closes: a Client (mode "standalone", one address), a sentinel-backed FailoverClient
// ("sentinel": master_name and the sentinels' addresses) or a ClusterClient ("cluster").
// It does not contact Redis: an unreachable server is a run-time failure, handled by
// fail_mode, not a construction error. An invalid configuration is.
func New(cfg config.Config, opts ...Option) (*Store, error) {
	cfg, err := prepare(cfg)
	if err != nil {
		return nil, err
	}
	return newOwning(cfg, opts)
}

// newOwning is New for a configuration that is valid and has its defaults applied.
func newOwning(cfg config.Config, opts []Option) (*Store, error) {
	c, err := newClient(cfg.Redis)
	if err != nil {
		return nil, err
	}
	return build(c, cfg, opts, true), nil
}

// NewWithClient builds a Store on a client the caller owns (Close does not close it).
// cfg gives key_prefix, fail_mode and redis.timeout, local_cache and circuit_breaker; the
// connection settings of cfg.Redis are ignored. The budget of a decision holds at socket
// level only if the client applies context deadlines (ContextTimeoutEnabled) or has read
// and write timeouts within redis.timeout; a warning is logged otherwise.
func NewWithClient(c redis.UniversalClient, cfg config.Config, opts ...Option) (*Store, error) {
	if c == nil {
		return nil, errors.New("ratewarden: redisstore.NewWithClient: nil client")
	}
	cfg, err := prepare(cfg)
	if err != nil {
		return nil, err
	}
	s := build(c, cfg, opts, false)
	if enabled, known := contextTimeouts(c); known && !enabled {
		s.logger.Warn("redis_client_ignores_context_deadlines",
			slog.String("hint", "set ContextTimeoutEnabled so that redis.timeout bounds every call"))
	}
	return s, nil
}

// prepare validates cfg as a redis configuration and applies its defaults.
func prepare(cfg config.Config) (config.Config, error) {
	cfg.Backend = config.BackendRedis
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg.WithDefaults(), nil
}

// build builds a Store on c; own says whether the Store owns c (New), or the caller (NewWithClient).
func build(c redis.UniversalClient, cfg config.Config, opts []Option, own bool) *Store {
	o := options{logger: slog.Default(), now: time.Now}
	for _, opt := range opts {
		opt.apply(&o)
	}
	s := &Store{
		client:      c,
		ownClient:   own,
		prefix:      cfg.KeyPrefix,
		budget:      cfg.Redis.Timeout,
		deadlines:   newDeadlines(cfg.Redis.Timeout, own),
		requestTime: o.requestTime,
		logger:      o.logger,
		observer:    o.observer,
		errlog:      backend.NewErrorLog(o.logger, o.now),
		breaker:     newBreaker(cfg.Redis.CircuitBreaker, o.logger, nil),
		fn:          newFunctions(c, o.functions, o.now, o.logger),
		loading:     map[*script]chan struct{}{},
	}
	// One Redis holds every key: batch the decisions. (A FailoverClient is a *redis.Client
	// too.) Any other client, a Cluster or a caller's Ring, spreads keys over servers.
	if _, ok := c.(*redis.Client); ok {
		for _, sc := range scripts {
			s.batchers = append(s.batchers, &batcher{s: s, sc: sc})
		}
	} else {
		s.pipe = autoPipeliner(c, o.logger)
	}
	if cc, ok := c.(*redis.ClusterClient); ok {
		s.nodes = newNodeBreakers(cc, cfg.Redis.CircuitBreaker, o.logger, s.breaker)
	}
	if cfg.FailMode == config.FailLocal {
		s.local = memorystore.New(cfg.Memory, memorystore.WithClock(o.now))
	}
	if config.On(cfg.Redis.LocalCache) {
		s.cache = newDenialCache(DefaultCacheSize)
	}
	return s
}

// Take decides req as [rate.Store] specifies, for every [rate.Op] in one round trip to
// Redis (none when the local cache knows the key is denied, or learns it while the request
// waits for a batch: batcher.learn). It returns [rate.ErrCost] for a
// cost no window could admit, and an *[Error] when Redis could not decide within
// redis.timeout and fail_mode is "open" or "closed"; with "local" it decides in-process
// instead and sets res.Fallback.
//
// When ctx is canceled before Redis answered, Take returns ctx's error and decides
// nothing: the caller gave up, which says nothing about Redis, so it is not logged,
// observed as a backend error, counted by the breaker, or decided in-process. (A
// core.Limiter never cancels a decision: the contexts it decides under drop the request's
// cancellation, which its client controls.)
//
// The local cache answers and remembers takes and checks only, which deny alike. A peek
// asks Redis, for the exact state; a consume ignores cooldowns, which the cache remembers,
// so it asks Redis too.
func (s *Store) Take(ctx context.Context, req *rate.Request, res *rate.Result) error {
	p := req.Policy
	if err := p.CheckCost(req.Cost); err != nil {
		return err
	}
	cached := s.cache != nil && (req.Op == rate.OpTake || req.Op == rate.OpCheck)
	if cached && s.cache.answer(req, res) {
		return nil
	}
	var epoch uint64
	if cached {
		epoch = s.cache.epoch.Load()
	}
	pl := s.plan(p)
	start := time.Now()
	err := s.eval(ctx, pl, req, res, start, epoch)
	if errors.Is(err, errDeniedMeanwhile) { // queued while an earlier call brought a denial of its key
		return nil
	}
	took := time.Since(start)
	if err == nil {
		s.observe(req.Op.String(), took, "")
		if cached && !res.Allowed {
			s.cache.remember(req, res, epoch)
		}
		return nil
	}
	if cerr := ctx.Err(); errors.Is(cerr, context.Canceled) && errors.Is(err, context.Canceled) {
		*res = rate.Result{}
		return cerr
	}
	e := s.failure(ctx, req.Op.String(), err, took)
	// Redis did not decide req in time (or failed), but answered a denial of its key while
	// req waited, made no later than req: the cache answers, as it would a request that
	// came a moment later, rather than fail_mode. Under a burst of one client, the
	// decisions sent before the first denial came back and held past their budget are
	// denied rather than failed open (TestTimedOutDecisionsOfADeniedKeyAreDenied).
	if cached && s.cache.answer(req, res) {
		return nil
	}
	if s.local != nil {
		if lerr := s.local.Take(ctx, req, res); lerr == nil {
			res.Fallback = true
			return nil
		}
	}
	*res = rate.Result{}
	return e
}

// eval runs the policy's script for req within the decision budget that began at start:
// by start + redis.timeout, or ctx's deadline when that is earlier. epoch is the local
// cache's before the call (denialCache.remember). It returns errDeniedMeanwhile with res
// set to the local cache's answer when a batcher answered req from it.
func (s *Store) eval(ctx context.Context, pl *plan, req *rate.Request, res *rate.Result, start time.Time, epoch uint64) error {
	c := &call{ctx: ctx, deadline: start.Add(s.budget), pl: pl, keys: pl.keys(s.prefix, req.Key), now: "", req: *req}
	c.req.Key = c.keys[0][len(s.prefix)+2:][:len(req.Key)] // "<prefix>:{<key>}…" (taggedKeys)
	c.cached, c.epoch = s.cache != nil && (req.Op == rate.OpTake || req.Op == rate.OpCheck), epoch
	if d, ok := ctx.Deadline(); ok && d.Before(c.deadline) {
		c.deadline = d
	}
	if s.requestTime {
		c.now = rate.ClampInstant(req.Now.UnixMicro()) // as rate.Policy.Apply
	}
	v, err := s.run(c)
	if errors.Is(err, errDeniedMeanwhile) {
		*res = *c.answer
	}
	if err != nil {
		return err
	}
	pl.decode(v, res)
	return nil
}

// breakerFor returns the circuit breaker of the Redis that holds key — on a Cluster, its
// master's; else the store's one — and whether it is failing (breaker.failing).
func (s *Store) breakerFor(ctx context.Context, key string) (b *breaker, failing bool) {
	if s.nodes != nil {
		return s.nodes.forKey(ctx, key)
	}
	return s.breaker, s.breaker.failing()
}

// run sends c: on one Redis, through the script's batcher, which decides it with the
// decisions that come meanwhile in one call (batch.go); on a Cluster, alone when it is the
// only decision running or its master is failing, else through the AutoPipeliner,
// pipelined with the concurrent ones into one round trip. The call is an FCALL, or an
// EVALSHA where Redis Functions are unavailable (functions.go); the code is loaded when
// Redis lacks it (its first use, or after a restart, a failover, FUNCTION FLUSH or SCRIPT
// FLUSH).
//
// A decision goes alone, on a pooled connection of its own, while its master's breaker is
// open, probing or its last call failed, and every decision does for two open_timeouts
// after a master's breaker opened on a timed-out call (nodeBreakers.hung): the
// AutoPipeliner queues by slot range, not by master, and a batch a hung master holds holds
// every decision queued behind it in its range, other masters' too, for as long as the
// master hangs. The hung master's half-open probes, sent pipelined, so held another
// master's decisions at every probe until they timed out and opened its breaker
// (TestAHungMastersProbesDoNotHoldAnotherMastersDecisions), and a failover's new master's
// (TestAFrozenMasterFailsOverUnderConcurrentLoad, under CI load).
//
// The script failing on c's keys alone (a state another program wrote there) is the
// master's answer, not its failure: it counts for neither the breaker nor hung, as in a
// batch on one Redis (TestABadKeyDoesNotOpenItsMastersBreaker).
func (s *Store) run(c *call) ([]int64, error) {
	if s.batchers != nil {
		return s.batchers[c.pl.algorithm].decide(c)
	}
	ctx, release := s.deadlines.context(c.ctx, c.deadline)
	defer release()
	c.ctx = ctx
	b, failing := s.breakerFor(ctx, c.keys[0])
	alone := failing || s.nodes != nil && s.nodes.hung()
	var reply []int64
	var failed error // the script failed on c's keys alone: the master answered
	err := b.do(func() (err error) {
		if alone {
			reply, err = s.execAlone(c, false)
		} else {
			reply, err = s.pipelined(c)
		}
		if errors.Is(err, errRequestFailed) {
			failed, err = err, nil
		}
		return err
	})
	switch {
	case failed != nil:
		return nil, failed
	case s.nodes != nil && (errors.Is(err, context.DeadlineExceeded) || isNetTimeout(err)) && !b.closed():
		s.nodes.timedOut() // the master hangs: its breaker opened on timeouts (not on a full pool)
	}
	return reply, err
}

// pipelined is run on a Cluster, under c.ctx's deadline.
func (s *Store) pipelined(c *call) ([]int64, error) {
	sc := c.pl.script
	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	if s.pipe == nil || n <= directDecisions {
		return s.execAlone(c, false)
	}
	if _, ok := s.loaded.Load(sc); !ok {
		return s.load(c, false)
	}
	v := viaEVALSHA
	if s.fn.use() {
		v = viaFCALL
	}
	err := s.submit(c, v)
	switch {
	case v == viaFCALL && unsupported(err):
		s.fn.unavailable(err)
		return s.execAlone(c, false)
	case notFound(err), noScript(err):
		s.loaded.Delete(sc)
		return s.load(c, true)
	}
	if v == viaFCALL {
		s.fn.answered(err)
	}
	return c.reply, err
}

// execAlone runs c alone on the client, on a Cluster (exec; loading the code first when
// missing), and remembers that Redis has the code once it ran there, for the pipelined
// calls.
func (s *Store) execAlone(c *call, missing bool) ([]int64, error) {
	reply, err := s.exec(c.ctx, c.pl.script, []*call{c}, missing)
	if ran(err) {
		s.loaded.Store(c.pl.script, struct{}{})
	}
	split(reply, err, []*call{c}, setReply)
	return c.reply, c.err
}

// submit runs c's code, as v says, through the AutoPipeliner. The AutoPipeliner runs a
// batch on its own context, bounded by the client's read and write timeouts
// (redis.timeout), so the wait is bounded by c.ctx here: a decision never waits for Redis
// past its budget, whatever its batch does.
func (s *Store) submit(c *call, v via) error {
	cmd := command(c.ctx, c.pl.script, v, []*call{c})
	if err := s.pipe.Submit(c.ctx, cmd).WaitContext(c.ctx); err != nil {
		return err
	}
	split(cmd.Val(), cmd.Err(), []*call{c}, setReply)
	return c.err
}

// load runs c when the store does not know its code is in Redis, on a Cluster: on the
// store's first use of the code (missing false: FCALL or EVALSHA first, in case another
// instance loaded it), or after a pipelined call found it missing (missing true: FUNCTION
// LOAD or EVAL at once). One decision per script does so, unpipelined, and the decisions
// that come meanwhile wait for it and then run pipelined: a burst on a fresh Redis or a
// fresh store sends one copy of the code, not one per decision.
func (s *Store) load(c *call, missing bool) ([]int64, error) {
	sc := c.pl.script
	s.loadMu.Lock()
	done, loading := s.loading[sc]
	if !loading {
		done = make(chan struct{})
		s.loading[sc] = done
	}
	s.loadMu.Unlock()
	if !loading {
		defer func() {
			s.loadMu.Lock()
			delete(s.loading, sc)
			s.loadMu.Unlock()
			close(done)
		}()
		return s.execAlone(c, missing)
	}
	select {
	case <-done:
	case <-c.ctx.Done():
		return nil, c.ctx.Err()
	}
	return s.pipelined(c)
}

// Reset forgets key as [rate.Store] specifies, in one round trip: one UNLINK of the key's
// window for each distinct length in periods and of its penalty (all in one Cluster slot,
// by their hash tag). The state of a window length periods leaves out — one no policy of
// the rule uses any more — expires by its TTL. Reset also forgets the key's denials in the
// local cache, or the reset client would stay denied here until they expire, and the key
// in the fail_mode "local" store. It returns an *[Error] when Redis could not be reached
// within redis.timeout (whatever fail_mode says: a reset is not a decision to fail open).
func (s *Store) Reset(ctx context.Context, key string, periods []time.Duration) error {
	if err := rate.CheckPeriods(periods); err != nil {
		return err
	}
	keys := resetKeys(s.prefix, key, periods)
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, s.budget) // naming a Cluster master included
	defer cancel()
	b, _ := s.breakerFor(ctx, keys[0])
	err := b.do(func() error {
		return s.client.Unlink(ctx, keys...).Err()
	})
	took := time.Since(start)
	// After the UNLINK, so that a denial remembered while it ran is forgotten too.
	if s.cache != nil {
		s.cache.forget(key)
	}
	if s.local != nil {
		_ = s.local.Reset(ctx, key, periods) // never fails for valid periods
	}
	if err != nil {
		return s.failure(ctx, resetOperation, err, took)
	}
	s.observe(resetOperation, took, "")
	return nil
}

// ran reports whether a call that returned err reached the code: it succeeded, or Redis
// answered an error other than NOSCRIPT and "Function not found". Redis then has the code.
func ran(err error) bool {
	if err == nil {
		return true
	}
	var rerr redis.Error
	return errors.As(err, &rerr) && !noScript(err) && !notFound(err)
}

// noScript reports Redis's answer to an EVALSHA of a script it does not have.
func noScript(err error) bool { return err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") }

// failure observes and logs a failed operation and returns its *Error.
func (s *Store) failure(ctx context.Context, operation string, err error, took time.Duration) *Error {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Kind: classify(err), Err: err}
	}
	s.observe(operation, took, e.Kind)
	s.errlog.Log(ctx, "redis_error", e.Kind, e.Err, slog.String("operation", operation))
	return e
}

func (s *Store) observe(operation string, took time.Duration, kind rate.ErrorKind) {
	if s.observer != nil {
		s.observer.ObserveBackend(operation, took, kind)
	}
}

// plan returns the cached plan of p, building it on first use.
func (s *Store) plan(p *rate.Policy) *plan {
	if pl, ok := s.plans.Load(p); ok {
		return pl.(*plan)
	}
	if s.nplans.Add(1) > maxPlans {
		s.plans.Clear()
		s.nplans.Store(1)
	}
	pl, _ := s.plans.LoadOrStore(p, newPlan(p))
	return pl.(*plan)
}

// Reloaded implements backend.Reloader: it forgets the local cache of denied keys and the
// plans derived from the old configuration's policies.
func (s *Store) Reloaded() {
	if s.cache != nil {
		s.cache.clear()
	}
	s.plans.Clear()
	s.nplans.Store(0)
}

// Close closes the client when the Store built it (New) and stops the fail_mode "local"
// store. It is idempotent; Take after Close fails as Redis being unreachable would.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.local != nil {
			_ = s.local.Close()
		}
		if s.ownClient {
			s.closeErr = s.client.Close()
		}
	})
	return s.closeErr
}
