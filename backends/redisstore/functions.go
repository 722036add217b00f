package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis Functions. A script defines all its helpers (9 to 11 closures by algorithm, 3 more
// in a call with penalties) and copies the globals it uses into locals on every EVALSHA,
// before it decides anything; a function of a library (Redis ≥ 7) does so once, on its
// first call after the library is loaded
// (scripts.go). Measured on the 2-vCPU VM (redis-server 7.0.15, one decision per call,
// INFO commandstats usec_per_call, medians of runs interleaved on one server): a token
// bucket's FCALL 29 µs against its EVALSHA's 38, a GCRA's 20 against 25; every algorithm's
// call costs Redis a fifth to a quarter less (docs/redis.md, "Measured").
//
// So a Store made WithFunctions calls the functions, FCALL, and loads the library lazily, as it loads scripts:
// when Redis answers that the function does not exist (its first use on that server, a
// restart without persistence, FUNCTION FLUSH, a failover to a node that never had it, a
// Cluster master that never had it), the Store loads the library — FUNCTION LOAD without
// REPLACE, on the master that answered — and calls again. Its name carries a hash of the
// code, so Stores of different versions sharing a Redis each load their own library and
// never replace another's; "already exists" means another Store loaded it meanwhile.
//
// Where Redis has no functions (before 7.0: FCALL or FUNCTION is an unknown command) or an
// ACL denies them (NOPERM on FCALL or on FUNCTION LOAD), the Store uses the scripts
// instead, EVALSHA and EVAL, as before, and tries the functions again recheckFunctions
// later: after an upgrade or an ACL change, it moves to them on its own.

// recheckFunctions is how long a Store that found Redis Functions unavailable uses the
// scripts before it tries FCALL again. A check that fails costs the decisions in flight
// one round trip more (two when FCALL exists but FUNCTION LOAD is denied) and, for a
// NOPERM, an entry in Redis's ACL LOG; the scripts decide the same meanwhile, at a higher
// cost to Redis.
const recheckFunctions = 10 * time.Minute

// functions says whether a Store calls Redis Functions or the scripts. It is safe for
// concurrent use.
type functions struct {
	// retry is 0 while the Store calls the functions; otherwise the instant (Unix ns) from
	// which decisions try them again (never: math.MaxInt64).
	retry  atomic.Int64
	now    func() time.Time
	logger *slog.Logger
}

// newFunctions returns the functions state of a Store on c: on when enabled
// ([WithFunctions]) for a Client (standalone, Sentinel) or a ClusterClient; never for
// another client (a Ring), whose keyless FUNCTION LOAD go-redis sends to one shard of its
// choosing.
func newFunctions(c redis.UniversalClient, enabled bool, now func() time.Time, logger *slog.Logger) *functions {
	f := &functions{now: now, logger: logger}
	switch c.(type) {
	case *redis.Client, *redis.ClusterClient:
		if enabled {
			return f
		}
	}
	f.retry.Store(math.MaxInt64)
	return f
}

// use reports whether a decision calls the functions: while they work, and again from
// recheckFunctions after they did not, until Redis answers whether they work now.
func (f *functions) use() bool {
	r := f.retry.Load()
	return r == 0 || r != math.MaxInt64 && f.now().UnixNano() >= r
}

// unavailable switches the Store to the scripts after Redis answered err, unsupported.
func (f *functions) unavailable(err error) {
	if f.retry.Swap(f.now().Add(recheckFunctions).UnixNano()) == 0 {
		f.logger.LogAttrs(context.Background(), slog.LevelInfo, "redis_functions_unavailable",
			slog.String("error", err.Error()),
			slog.String("hint", "decisions use EVALSHA, which costs Redis more; Redis Functions need Redis 7 and an ACL allowing FCALL and FUNCTION LOAD (docs/redis.md)"),
			slog.Duration("recheck_in", recheckFunctions))
	}
}

// answered notes an FCALL that reached its function (err is nil or a Redis error other
// than unsupported and notFound): the functions work again after a recheck.
func (f *functions) answered(err error) {
	if f.retry.Load() == 0 || !ran(err) || unsupported(err) {
		return
	}
	f.retry.Store(0)
	f.logger.LogAttrs(context.Background(), slog.LevelInfo, "redis_functions_available", slog.String("library", library.name))
}

// fcall runs sc's function for calls, FCALL, and returns every request's reply, back to
// back. When Redis answers that the function does not exist, or at once when missing is
// set (the caller knows it does not), it loads the library and calls again: two more
// round trips. An unsupported error means the caller should use the scripts.
func (s *Store) fcall(ctx context.Context, sc *script, calls []*call, missing bool) ([]int64, error) {
	if !missing {
		cmd := command(ctx, sc, viaFCALL, calls)
		err := s.client.Process(ctx, cmd)
		if !notFound(err) {
			s.fn.answered(err)
			return cmd.Val(), err
		}
	}
	if err := s.loadLibrary(ctx, calls[0].keys[0]); err != nil {
		return nil, err
	}
	cmd := command(ctx, sc, viaFCALL, calls)
	err := s.client.Process(ctx, cmd)
	s.fn.answered(err)
	return cmd.Val(), err
}

// loadLibrary loads the library into the Redis that holds key: the Client's server, or on
// a Cluster the master of key's slot (a library is a server's own: FUNCTION LOAD does not
// spread over a Cluster). A library that already exists is loaded.
func (s *Store) loadLibrary(ctx context.Context, key string) error {
	node := redis.Cmdable(s.client)
	if cc, ok := s.client.(*redis.ClusterClient); ok {
		master, err := cc.MasterForKey(ctx, key)
		if err != nil {
			return err
		}
		node = master
	}
	err := node.FunctionLoad(ctx, library.src).Err()
	if err == nil {
		s.logger.LogAttrs(ctx, slog.LevelInfo, "redis_function_library_loaded", slog.String("library", library.name))
	}
	if exists(err) {
		return nil
	}
	return err
}

// notFound reports Redis's answer to an FCALL of a function it does not have. (The
// checks of err against nil here spare the decisions that succeed an allocation:
// HasErrorPrefix's errors.As moves its target to the heap.)
func notFound(err error) bool { return err != nil && redis.HasErrorPrefix(err, "Function not found") }

// exists reports Redis's answer to a FUNCTION LOAD of a library it has.
func exists(err error) bool {
	var rerr redis.Error
	return err != nil && errors.As(err, &rerr) && strings.HasPrefix(rerr.Error(), "ERR Library '") && strings.HasSuffix(rerr.Error(), "' already exists")
}

// unsupported reports answers that mean this Redis will not run our functions: FCALL or
// FUNCTION is an unknown command (Redis before 7.0, or a renamed command), or an ACL
// denies it (NOPERM).
func unsupported(err error) bool {
	return err != nil && (redis.HasErrorPrefix(err, "unknown command") || redis.HasErrorPrefix(err, "NOPERM"))
}
