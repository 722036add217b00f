package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ratewarden/ratewarden/core/rate"
)

// Batching. A decision script pays, on every call, for the call itself: Redis reads and
// parses the command, looks the script up, sets up its Lua function and closures and
// encodes the reply; the client writes, reads and hands the reply over between goroutines.
// Measured on the 2-vCPU VM (redis-server 7.0), that is more than half of a token bucket
// decision's Redis CPU when each decision is its own call. So the scripts decide a batch
// of requests per call (lua/prelude.lua), and a Store on one Redis (standalone, Sentinel)
// sends the decisions that come while its earlier calls are in flight as one call: a lone
// decision goes at once, alone; under load, each call carries all that queued meanwhile.
// Redis decides a batch's requests one after the other, as separate calls would: the
// batch changes no answer, only what each costs.
//
// A Cluster spreads keys over slots and a script may only touch one slot's keys, so a
// Store on a Cluster sends one request per call, pipelined by go-redis's AutoPipeliner
// (Store.run).

// maxBatch bounds the requests of one script call. Redis runs a script to its end before
// any other command, so it bounds the pause a batch imposes on the server's other clients:
// about 128 × 10–20 µs, 1–3 ms, on the 2-vCPU VM.
const maxBatch = 128

// maxInFlight is how many calls of one script a Store has in flight at once on one Redis:
// two, so that Redis runs one batch while the client reads the answer of the other and
// writes the next. More would only queue at the single-threaded server, and each holds a
// pooled connection.
const maxInFlight = 2

// call is one decision on its way to Redis: the request's keys and arguments, and, once
// its batch has run, the request's part of the reply, or the batch's error.
type call struct {
	ctx      context.Context // the caller's: a call whose ctx is done is not sent
	deadline time.Time       // the end of its budget: a call past it is not sent
	pl       *plan
	keys     []string
	now      any // ARGV "now": µs, or "" for the server's TIME
	// req is the caller's request, its Key a part of keys[0] (a string of the call's own,
	// which the batcher may read after its caller gave up), for the local cache.
	req rate.Request
	// cached: the local cache answers and remembers req (see Store.Take), so a batcher
	// answers it from a denial an earlier call of the same key brought meanwhile (in
	// answer, with err errDeniedMeanwhile).
	cached bool
	epoch  uint64       // the local cache's epoch before the call was sent (denialCache.remember)
	answer *rate.Result // the local cache's answer, when err is errDeniedMeanwhile

	reply    []int64
	err      error
	done     chan struct{} // closed when reply or err is set (queued calls only)
	finished atomic.Bool   // reply or err is set (queued calls only; see finish)
}

// finish sets the outcome of a queued call and wakes its caller, once: the second of its
// batch's reply and its own deadline (batcher.expire) is ignored.
func (c *call) finish(reply []int64, err error) {
	if c.finished.CompareAndSwap(false, true) {
		c.reply, c.err = reply, err
		close(c.done)
	}
}

// via is how a call runs its algorithm's code.
type via int

const (
	viaFCALL   via = iota // FCALL of its function in the library
	viaEVALSHA            // EVALSHA of its script
	viaEVAL               // EVAL of its script, which loads it
)

// command returns the call deciding calls, one after the other, with sc's code run as v
// says. Its reply is every request's reply, back to back. The arguments of each distinct
// policy of the batch are sent once, after the requests', and each request points at its
// policy's (lua/prelude.lua).
func command(ctx context.Context, sc *script, v via, calls []*call) *redis.IntSliceCmd {
	var buf [4]*plan
	plans := buf[:0] // the batch's distinct policies, in order of first use
	n, nkeys := 4, 0
	for _, c := range calls {
		if !slices.Contains(plans, c.pl) {
			plans = append(plans, c.pl)
			n += len(c.pl.args)
		}
		nkeys += len(c.keys)
		n += len(c.keys) + 4
	}
	a := make([]any, 0, n)
	switch v {
	case viaFCALL:
		a = append(a, "fcall", sc.function, nkeys)
	case viaEVALSHA:
		a = append(a, "evalsha", sc.hash, nkeys)
	default:
		a = append(a, "eval", sc.src, nkeys)
	}
	for _, c := range calls {
		for _, k := range c.keys {
			a = append(a, k)
		}
	}
	a = append(a, len(calls))
	// The position in ARGV (from 1) of the arguments of each plan, after the requests',
	// boxed once per plan.
	var posBuf [4]any
	pos := posBuf[:0]
	next := 2 + 4*len(calls)
	for _, pl := range plans {
		pos = append(pos, next)
		next += len(pl.args)
	}
	for _, c := range calls {
		a = append(a, pos[slices.Index(plans, c.pl)], c.now, c.req.Cost, opArgs[c.req.Op])
	}
	for _, pl := range plans {
		a = append(a, pl.args...)
	}
	cmd := redis.NewIntSliceCmd(ctx, a...)
	cmd.SetFirstKeyPos(3) // routes the command to the keys' slot in Cluster mode
	return cmd
}

// send runs sc for calls (exec) through the circuit breaker, which counts a script call —
// a batch of decisions — as one success or one failure: one batch that times out is one
// failure toward failure_threshold, not one per decision in it. While the breaker is open,
// it fails every call at once.
func (s *Store) send(ctx context.Context, sc *script, calls []*call) (reply []int64, err error) {
	err = s.breaker.do(func() (err error) {
		reply, err = s.exec(ctx, sc, calls, false)
		return err
	})
	return reply, err
}

// exec runs sc's code for calls on the client, in one round trip, and returns every
// request's reply, back to back: FCALL of its function (functions.go), or, where Redis
// Functions are unavailable, EVALSHA of its script. Loading the code when Redis lacks it
// costs more: FUNCTION LOAD and FCALL again, or EVAL. When missing is set, the caller
// knows Redis lacks it, and exec loads it at once.
func (s *Store) exec(ctx context.Context, sc *script, calls []*call, missing bool) ([]int64, error) {
	if s.fn.use() {
		reply, err := s.fcall(ctx, sc, calls, missing)
		if !unsupported(err) {
			return reply, err
		}
		s.fn.unavailable(err)
		missing = false // the script may well be loaded
	}
	return s.evalsha(ctx, sc, calls, missing)
}

// evalsha runs sc's script for calls: EVALSHA, or EVAL when eval is set (the caller knows
// Redis lacks the script), or EVALSHA then EVAL when EVALSHA answers NOSCRIPT (the
// script's first use, or after a restart, a failover or SCRIPT FLUSH).
func (s *Store) evalsha(ctx context.Context, sc *script, calls []*call, eval bool) ([]int64, error) {
	v := viaEVALSHA
	if eval {
		v = viaEVAL
	}
	cmd := command(ctx, sc, v, calls)
	err := s.client.Process(ctx, cmd)
	if !eval && noScript(err) {
		cmd = command(ctx, sc, viaEVAL, calls)
		err = s.client.Process(ctx, cmd)
	}
	return cmd.Val(), err
}

// split hands each call its part of reply, or err, through set; or an error for a reply
// whose length is not the calls' (a script of another version answered).
func split(reply []int64, err error, calls []*call, set func(c *call, reply []int64, err error)) {
	if err == nil {
		want := 0
		for _, c := range calls {
			want += c.pl.replyLen()
		}
		if len(reply) != want {
			err = fmt.Errorf("redisstore: the script answered %d values, want %d", len(reply), want)
		}
	}
	off := 0
	for _, c := range calls {
		n := c.pl.replyLen()
		switch {
		case err != nil:
			set(c, nil, err)
		case reply[off] == -1:
			set(c, nil, errRequestFailed)
		default:
			set(c, reply[off:off+n:off+n], nil)
		}
		off += n
	}
}

// errRequestFailed is the error of a decision the script failed on while it decided the
// rest of its batch (lua/decide.lua): a Redis error on one of its keys, in Redis's log.
var errRequestFailed = &Error{Kind: rate.KindScript, Err: errors.New("redisstore: the script failed on this decision's keys (redis-server's log says why)")}

// setReply sets the outcome of a call its caller sent itself.
func setReply(c *call, reply []int64, err error) { c.reply, c.err = reply, err }

// batcher sends the decisions of one script on one Redis in batches (see Batching above).
// It is safe for concurrent use.
type batcher struct {
	s  *Store
	sc *script

	mu       sync.Mutex
	queue    []*call // decisions waiting for a call; only while inFlight == maxInFlight
	inFlight int
	// until is the latest deadline of the calls sent since the last time none was in
	// flight: the calls in flight end by then.
	until time.Time
}

// decide runs c, alone when fewer than maxInFlight calls are in flight, else in the next
// batch, and returns its reply, or an error by c's deadline or when c.ctx is done.
//
// A queued decision usually arms no timer of its own (one per decision cost a tenth of the
// client's CPU under load): the calls in flight end by their own deadlines, which are
// usually no later than its own, since the queue is in arrival order and budgets are
// equal. One whose deadline comes before theirs — a caller's context with an earlier
// deadline, or a caller descheduled between its start and the queue — arms one. A batch
// leaves out the decisions whose deadline has passed; it runs until the latest deadline
// of the others, and one timer per batch fails each of them at its own deadline (expire):
// one decision's short time left never shortens another's.
func (b *batcher) decide(c *call) ([]int64, error) {
	b.mu.Lock()
	if b.inFlight < maxInFlight {
		b.inFlight++
		b.until = later(b.until, c.deadline)
		b.mu.Unlock()
		ctx, release := b.s.deadlines.context(c.ctx, c.deadline)
		reply, err := b.s.send(ctx, b.sc, []*call{c})
		release()
		split(reply, err, []*call{c}, setReply)
		b.learn(c, c.reply, c.err) // before the next batch is formed
		if batch := b.next(); batch != nil {
			go b.run(batch)
		}
		return c.reply, c.err
	}
	c.done = make(chan struct{})
	b.queue = append(b.queue, c)
	var expired <-chan time.Time
	if c.deadline.Before(b.until) {
		t := time.NewTimer(time.Until(c.deadline))
		defer t.Stop()
		expired = t.C
	}
	b.mu.Unlock()
	// On the two last cases, the batch may still send the request and Redis count it:
	// over-counting, never over-admitting. c's reply and error are the batch's to write
	// from then on.
	select {
	case <-c.done:
		return c.reply, c.err
	case <-c.ctx.Done():
		return nil, c.ctx.Err()
	case <-expired:
		return nil, context.DeadlineExceeded
	}
}

// later is the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// next takes the next batch from the queue after a call ended, or frees the call's slot
// and returns nil.
func (b *batcher) next() []*call {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) == 0 {
		b.inFlight--
		if b.inFlight == 0 {
			b.until = time.Time{}
		}
		return nil
	}
	n := min(len(b.queue), maxBatch)
	batch := make([]*call, n)
	copy(batch, b.queue)
	rest := copy(b.queue, b.queue[n:])
	clear(b.queue[rest:])
	b.queue = b.queue[:rest]
	return batch
}

// run sends batch, then each next batch while the queue has one, on one goroutine: under
// load, a slot's batches follow one another there, on a stack grown to go-redis's depth
// (a goroutine per batch spent a tenth of the client's CPU growing its stack, measured
// with -cpuprofile at 64 callers). Each batch leaves out the decisions whose deadline has
// passed or whose caller's context is done, and runs until the latest deadline of the
// others.
func (b *batcher) run(batch []*call) {
	for ; batch != nil; batch = b.next() {
		b.runBatch(batch)
	}
}

// runBatch sends one batch (see run).
func (b *batcher) runBatch(batch []*call) {
	now := time.Now()
	live := batch[:0]
	var latest time.Time
	for _, c := range batch {
		err := c.ctx.Err()
		if err == nil && !now.Before(c.deadline) {
			err = context.DeadlineExceeded
		}
		if err != nil {
			c.finish(nil, err)
			continue
		}
		if c.cached {
			var res rate.Result
			if b.s.cache.answer(&c.req, &res) {
				c.finishAnswered(&res)
				continue
			}
		}
		if c.deadline.After(latest) {
			latest = c.deadline
		}
		live = append(live, c)
	}
	if len(live) == 0 {
		return
	}
	b.mu.Lock()
	b.until = later(b.until, latest)
	b.mu.Unlock()
	stop := expire(live)
	ctx, cancel := context.WithDeadline(context.Background(), latest)
	reply, err := b.s.send(ctx, b.sc, live)
	cancel()
	stop()
	split(reply, err, live, b.finish)
}

// finishAnswered ends a queued call with the local cache's answer, once (see finish).
func (c *call) finishAnswered(res *rate.Result) {
	if c.finished.CompareAndSwap(false, true) {
		c.answer, c.err = res, errDeniedMeanwhile
		close(c.done)
	}
}

// finish learns from a call's reply (learn), then sets it and wakes its caller.
func (b *batcher) finish(c *call, reply []int64, err error) {
	b.learn(c, reply, err)
	c.finish(reply, err)
}

// learn remembers in the local cache a denial Redis answered for c, before the batcher
// forms its next batch, so that the decisions of c's key queued meanwhile are answered
// locally (runBatch) rather than each sent to Redis: under a burst of one client, a few
// calls decide it instead of one per maxBatch requests. That is what the local cache does
// for the requests that come after a denial (Store.Take), brought forward to those that
// came while it was on its way: Redis would deny them too, as it decides them after it.
// Store.Take remembers it again once its caller runs; the cache keeps the latest.
func (b *batcher) learn(c *call, reply []int64, err error) {
	if err != nil || !c.cached || reply[0] == 1 {
		return
	}
	var res rate.Result
	c.pl.decode(reply, &res)
	b.s.cache.remember(&c.req, &res, c.epoch)
}

// errDeniedMeanwhile ends a queued call whose key the local cache learned is denied while
// the call waited (batcher.learn), with the cache's answer in call.answer: Store.Take
// returns that answer. It never leaves the package.
var errDeniedMeanwhile = errors.New("redisstore: the local cache learned the key is denied")

// expire fails each of calls with context.DeadlineExceeded when its deadline passes
// before it finished, with one timer, until stop is called.
func expire(calls []*call) (stop func()) {
	var (
		mu      sync.Mutex
		stopped bool
		t       *time.Timer
	)
	fire := func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		now := time.Now()
		var next time.Time
		for _, c := range calls {
			switch {
			case c.finished.Load():
			case !now.Before(c.deadline):
				c.finish(nil, context.DeadlineExceeded)
			case next.IsZero() || c.deadline.Before(next):
				next = c.deadline
			}
		}
		if !next.IsZero() {
			t.Reset(next.Sub(now))
		}
	}
	earliest := calls[0].deadline
	for _, c := range calls[1:] {
		if c.deadline.Before(earliest) {
			earliest = c.deadline
		}
	}
	mu.Lock()
	t = time.AfterFunc(time.Until(earliest), fire)
	mu.Unlock()
	return func() {
		mu.Lock()
		stopped = true
		t.Stop()
		mu.Unlock()
	}
}
