package core

import (
	"container/list"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/ratewarden/ratewarden/core/backend"
	"github.com/ratewarden/ratewarden/core/config"
)

// Identity is who a verified API key belongs to, as the application's [KeyLookup]
// answers it.
type Identity struct {
	// User is the id the client is counted under: scope "key", client id "key:<User>" in
	// logs, bodies and Redis keys. Make it a customer or account id, never the key itself.
	// A lookup that answers an empty User is treated as failed.
	User string
	// Tier picks the tier limits exactly as a JWT tier claim does; "" is [TierNone].
	Tier string
}

// ErrKeyNotFound is the answer of a [KeyLookup] for a key it does not know. It is a normal
// answer, not a failure: it is cached for api_key.cache_ttl like a found key, it is not
// logged, and the request is identified as if it carried no key (a verified JWT, else
// its IP).
var ErrKeyNotFound = errors.New("ratewarden: API key not found")

// KeyLookup maps an API key to its [Identity], typically from the application's database.
// It returns [ErrKeyNotFound] (or an error wrapping it) for an unknown key, and any other
// error when it cannot answer. ctx carries the request's values and a deadline of
// api_key.timeout; a lookup that ignores it still never holds a request past that timeout,
// but keeps running until it returns. Its errors are logged (rate-limited), with the key
// replaced by "[key]" should the error quote it. It must be safe for concurrent use; one
// key is never looked up twice at once.
type KeyLookup func(ctx context.Context, key string) (Identity, error)

// WithKeyLookup verifies the API keys of [api_key] with lookup (SPEC section 2): with
// api_key.enabled, a request whose api_key.header holds a key the lookup knows is counted
// under that key's user id with its tier; an unknown key, a failed lookup or a timeout
// leaves the request identified as without the key. Answers are cached per key for
// api_key.cache_ttl, "not found" included, in a bounded cache (up to 100,000 found and
// 10,000 unknown keys, least recently used evicted first) that [Limiter.Reload] empties.
// Raw keys are held only for the lookup call: the cache, logs, metrics, headers and
// counter keys never see them. With api_key.enabled and no lookup, [New] fails.
func WithKeyLookup(lookup KeyLookup) Option {
	return optionFunc(func(o *options) { o.keyLookup = lookup })
}

// Bounds of the key cache. Unknown keys have a cache of their own, so that a client
// rotating random keys cannot evict the customers' answers.
const (
	maxKnownKeys   = 100_000
	maxUnknownKeys = 10_000
	// maxLookupsInFlight bounds the lookups running at once (see keyResolver.slots).
	maxLookupsInFlight = 256
)

// errNoUser is the failure of a lookup that answered an identity without a user id.
// lookupError is the attribute that logs a failed lookup's err. The lookup's own words are
// not logged, only their Go type: they may quote the key in any form (%q, upper case, a
// prefix), and raw keys never reach the logs. A lookup that wants its errors seen logs
// them itself, where it knows what is secret.
func lookupError(err error) slog.Attr {
	var f lookupFault
	if errors.As(err, &f) {
		return slog.String("error", f.Error())
	}
	return slog.String("error", fmt.Sprintf("the lookup returned an error (%T; its text is not logged, as it may quote the key)", err))
}

// lookupFault is a failure of the lookup that ratewarden itself words, and so may log:
// unlike the lookup's own errors, its text cannot quote the key.
type lookupFault string

func (f lookupFault) Error() string { return string(f) }

const errNoUser = lookupFault("the lookup answered an Identity with an empty User")

// keyResolver verifies API keys for one configuration: a new snapshot gets a new one, so
// a reload forgets every cached answer and every lookup still in flight.
type keyResolver struct {
	lookup  KeyLookup
	header  string
	ttl     time.Duration
	timeout time.Duration
	now     func() time.Time
	secret  *[32]byte             // keys the hash that names a key in the cache
	log     *backend.ThrottledLog // lookup failures; shared across reloads

	known, unknown keyCache
	flights        singleflight.Group // concurrent lookups of one key become one call
	// slots bound the lookups running at once: a lookup that hangs (ignoring its context)
	// keeps its goroutine and its slot, so random keys cannot pile up goroutines; when
	// every slot is taken, a key not in the cache is left unverified (anonymous).
	slots chan struct{}
}

// newKeyResolver returns the resolver for the api_key section a, or nil when API keys
// are off. It fails when they are on and the application gave no lookup.
func (l *Limiter) newKeyResolver(a config.APIKeyConfig) (*keyResolver, error) {
	if !a.Enabled {
		return nil, nil
	}
	if l.keyLookup == nil {
		return nil, &config.ValidationError{Problems: []config.Problem{{
			Key:     "api_key.enabled",
			Message: "is true, but no key lookup was given in code (core.WithKeyLookup): API keys are only ever verified by the application's lookup",
		}}}
	}
	return &keyResolver{
		lookup: l.keyLookup, header: a.Header, ttl: a.CacheTTL, timeout: a.Timeout,
		now: l.now, secret: l.keySecret, log: l.keyLog,
		slots:   make(chan struct{}, maxLookupsInFlight),
		known:   keyCache{max: maxKnownKeys},
		unknown: keyCache{max: maxUnknownKeys},
	}, nil
}

// newKeySecret returns a random key for the hash of API keys, one per Limiter.
func newKeySecret() *[32]byte {
	var s [32]byte
	_, _ = rand.Read(s[:]) // crypto/rand.Read never fails (it crashes the program instead)
	return &s
}

// identify returns the identity of key, from the cache or the lookup; ok is false for an
// unknown key, or a failed or timed-out lookup. ctx gives the lookup its values; its
// cancellation does not end the wait, which api_key.timeout bounds: a client that hangs
// up or half-closes (net/http cancels its request's context) must not be identified by
// its IP instead of its key — counted on another counter, yet served as the key's user.
func (k *keyResolver) identify(ctx context.Context, key string) (id Identity, ok bool) {
	h := k.hash(key)
	now := k.now()
	if id, ok := k.known.get(h, now); ok {
		return id, true
	}
	if _, ok := k.unknown.get(h, now); ok {
		return Identity{}, false
	}
	// The call runs in a goroutine of its own, so that waiting for it is bounded here
	// even when the lookup ignores its context.
	ch := k.flights.DoChan(string(h[:]), func() (any, error) { return k.fetch(ctx, h, key) })
	timer := time.NewTimer(k.timeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		switch {
		case r.Err == nil:
			return r.Val.(Identity), true
		case !errors.Is(r.Err, ErrKeyNotFound):
			k.log.Log(ctx, "api_key_lookup_failed", "error", lookupError(r.Err))
		}
	case <-timer.C:
		k.log.Log(ctx, "api_key_lookup_failed", "timeout", slog.String("error", fmt.Sprintf("no answer within api_key.timeout (%s)", k.timeout)))
	}
	return Identity{}, false
}

// fetch calls the lookup for key, whose hash is h, with a context of its own that keeps
// ctx's values but not its cancellation (other requests may be waiting for the answer),
// and caches the answer. An answer that comes after waiters gave up is cached all the
// same; failures are not cached.
func (k *keyResolver) fetch(ctx context.Context, h [sha256.Size]byte, key string) (id Identity, err error) {
	select {
	case k.slots <- struct{}{}:
		defer func() { <-k.slots }() // when the lookup returns: a hanging one keeps its slot
	default:
		return Identity{}, errBusy
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), k.timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil { // a panic here would end the process: no handler recovers it
			id, err = Identity{}, lookupFault("the lookup panicked") // its value may quote the key
		}
	}()
	id, err = k.lookup(lctx, key)
	expires := k.now().Add(k.ttl)
	switch {
	case errors.Is(err, ErrKeyNotFound):
		k.unknown.put(h, Identity{}, expires)
		return Identity{}, ErrKeyNotFound
	case err != nil:
		return Identity{}, err
	case id.User == "":
		return Identity{}, errNoUser
	}
	k.known.put(h, id, expires)
	return id, nil
}

// hash names key in the cache and among the lookups in flight: HMAC-SHA-256 under the
// limiter's random secret, so that the cache holds no key, nor anything to test guesses
// against offline.
func (k *keyResolver) hash(key string) (h [sha256.Size]byte) {
	m := hmac.New(sha256.New, k.secret[:])
	m.Write([]byte(key))
	m.Sum(h[:0])
	return h
}

var errBusy = lookupFault(fmt.Sprintf("%d lookups already running: a key not in the cache is left unverified", maxLookupsInFlight))

// keyCache is a bounded map from key hashes to identities with expiry, evicting the least
// recently used entry when full. It is safe for concurrent use; its zero value (with max
// set) is empty.
type keyCache struct {
	max int

	mu      sync.Mutex
	entries map[[sha256.Size]byte]*list.Element // of *keyEntry
	lru     list.List                           // most recently used first
}

type keyEntry struct {
	hash    [sha256.Size]byte
	id      Identity
	expires time.Time
}

// get returns the identity cached for h, unless it expired by now.
func (c *keyCache) get(h [sha256.Size]byte, now time.Time) (Identity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[h]
	if !ok {
		return Identity{}, false
	}
	e := el.Value.(*keyEntry)
	if !now.Before(e.expires) {
		c.lru.Remove(el)
		delete(c.entries, h)
		return Identity{}, false
	}
	c.lru.MoveToFront(el)
	return e.id, true
}

// put caches id for h until expires, evicting the least recently used entry when full.
func (c *keyCache) put(h [sha256.Size]byte, id Identity, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[h]; ok {
		e := el.Value.(*keyEntry)
		e.id, e.expires = id, expires
		c.lru.MoveToFront(el)
		return
	}
	if c.entries == nil {
		c.entries = map[[sha256.Size]byte]*list.Element{}
	}
	if len(c.entries) >= c.max {
		oldest := c.lru.Back()
		c.lru.Remove(oldest)
		delete(c.entries, oldest.Value.(*keyEntry).hash)
	}
	c.entries[h] = c.lru.PushFront(&keyEntry{hash: h, id: id, expires: expires})
}
