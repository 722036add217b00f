package httplimit

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/backend"
	"github.com/ratewarden/ratewarden/core/clientip"
	"github.com/ratewarden/ratewarden/core/config"
)

// The lockout of the admin endpoints (SPEC section 8).
const (
	// maxFailures failed attempts from one client address within failureWindow lock the
	// address out of the admin endpoints until the oldest of them is failureWindow old.
	maxFailures   = 5
	failureWindow = time.Minute
	// maxTrackedAddrs bounds the addresses whose failures are remembered.
	maxTrackedAddrs = 10_000
	// maxKnownAddrs addresses that gave the right token within knownFor are let through a
	// full failure table (their token still checked): an attacker who fills the table from
	// 10,000 addresses locks out new addresses, not an admin who authenticated lately. Their
	// failures are recorded past the bound, by at most maxKnownAddrs addresses.
	maxKnownAddrs = 64
	knownFor      = 24 * time.Hour
	// logEvery is the least time between two records of failed attempts, and between two
	// of refused requests: a brute force logs a trickle, each record counting the events
	// it stands for.
	logEvery = time.Minute
)

// Admin serves the admin endpoints of a Limiter (SPEC section 8), under /admin/:
//
//	POST   /admin/reload                             reloads the configuration that load returns
//	GET    /admin/limits?client=…[&rule=…][&tier=…]  a client's limits ([core.Limiter.Status])
//	DELETE /admin/limits?client=…[&rule=…]           forgets them ([core.Limiter.Reset])
//
// Mount it on the router for /admin/ and every path below. Every endpoint needs
// "Authorization: Bearer <admin.token>", the token of the configuration in force; while
// admin.token is empty the endpoints do not exist (404). Tokens are compared in constant
// time. A missing or wrong token is 401 and a failed attempt: after 5 of them within a
// minute from one client address — resolved as decisions resolve it, trusted proxies
// and IPv6 prefixes included ([core.Limiter.ClientAddr]) — every admin request from that
// address is answered 429 with Retry-After, without looking at its token, until the
// oldest of the 5 is a minute old. An unknown path below /admin/ is 404, a known one
// with another method 405 with Allow.
//
// Failures are logged through the Limiter's logger ([core.Limiter.Logger]): a failed
// reload at error (config_reload_failed, with the problems: [core.Limiter.ReloadFrom]); a
// missing or wrong token (admin_auth_failed) and a request refused 429
// (admin_locked_out) at warn, with the client address, method and path, at most one
// record a minute of each, which counts the events since the last one ("suppressed").
// The token given is never logged.
//
// POST /admin/reload answers 200 {"status":"reloaded"} when the new configuration is in
// force; 422 {"error":"invalid_configuration","problems":[…]} when the file is not valid
// TOML (the problem names its line and column) or the configuration is invalid, the old
// one staying in force; 500 when the configuration cannot be read at all. A file that
// changes settings only a restart applies (backend, redis.*, …) reloads the others and
// answers 200 as well: the body is the one SPEC section 8 fixes, and the Limiter logs
// config_reload_needs_restart naming the keys ([core.Limiter.Reload]).
//
// GET /admin/limits answers 200 with what a request of the client would get under the
// rule, or under every rule when rule is absent, consuming nothing:
//
//	{"client": "ip:203.0.113.7", "rules": [{"rule": "default", "windows": [{"limit": 3,
//	 "window": 60, "remaining": 0, "reset": 1764160800}], "penalty": {"cooldown": 0,
//	 "violations": 0}}]}
//
// client is written as the denial logs' client_id ("ip:203.0.113.7",
// "ip:2001:db8:1:2::/64", "user:alice", "key:<id>", "global"); the optional tier picks
// the tier's limits (default: the rule's own). DELETE /admin/limits resets the client's
// windows and penalty under the rule, or every rule, and answers 204. Both answer 400
// {"error":"invalid_client","message":…} for a missing or malformed client (or one the
// rule does not count), 404 {"error":"unknown_rule","message":…} for a rule the
// configuration does not have, and 503 {"error":"rate_limit_unavailable",…} with
// Retry-After when the backend cannot answer.
//
// An Admin is safe for concurrent use.
type Admin struct {
	lim      *core.Limiter
	load     func() (config.Config, error)
	now      func() time.Time
	log      *backend.ThrottledLog // failed attempts and refused requests
	failures failures
	routes   map[string]map[string]http.HandlerFunc // path → method → handler
}

// AdminOption configures an [Admin].
type AdminOption interface{ applyAdmin(*Admin) }

type adminOptionFunc func(*Admin)

func (f adminOptionFunc) applyAdmin(a *Admin) { f(a) }

// WithAdminClock sets the clock the lockout of failed attempts, and the pace of their
// log records, are kept with (default time.Now); tests pass one they move by hand.
func WithAdminClock(now func() time.Time) AdminOption {
	return adminOptionFunc(func(a *Admin) { a.now = now })
}

// NewAdmin returns the admin endpoints of lim; POST /admin/reload reloads lim with the
// configuration load returns (typically configfile.Source.Load, which reads the file again).
func NewAdmin(lim *core.Limiter, load func() (config.Config, error), opts ...AdminOption) *Admin {
	a := &Admin{lim: lim, load: load, now: time.Now, failures: failures{byAddr: map[netip.Prefix][]time.Time{}}}
	for _, opt := range opts {
		opt.applyAdmin(a)
	}
	a.log = backend.NewThrottledLog(lim.Logger(), slog.LevelWarn, logEvery, a.now)
	a.routes = map[string]map[string]http.HandlerFunc{
		"/admin/reload": {http.MethodPost: a.reload},
		"/admin/limits": {http.MethodGet: a.status, http.MethodDelete: a.reset},
	}
	return a
}

// ServeHTTP checks the token and the lockout, then serves the endpoint of r.
func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token := a.lim.Config().Admin.Token
	if token == "" {
		http.NotFound(w, r)
		return
	}
	addr, _ := a.lim.ClientAddr(r) // unresolvable peers share the zero prefix
	wait, ok := a.failures.attempt(addr, a.now(), func() bool { return authorized(r, token) })
	if wait > 0 {
		retry := core.RetryAfterSeconds(wait)
		a.log.Log(r.Context(), "admin_locked_out", "locked_out", attemptAttrs(addr, r, slog.Int64("retry_after", retry))...)
		w.Header().Set("Retry-After", strconv.FormatInt(retry, 10))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "too_many_failed_attempts"})
		return
	}
	if !ok {
		a.log.Log(r.Context(), "admin_auth_failed", "unauthorized", attemptAttrs(addr, r)...)
		w.Header().Set("WWW-Authenticate", `Bearer realm="ratewarden-admin"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
		return
	}
	methods, ok := a.routes[r.URL.Path]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found"})
		return
	}
	h, ok := methods[r.Method]
	if !ok {
		allow := make([]string, 0, len(methods))
		for m := range methods {
			allow = append(allow, m)
		}
		slices.Sort(allow)
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed"})
		return
	}
	h(w, r)
}

// attemptAttrs are the fields of a failed attempt's record: the client address as the
// denial logs write it, the method and the path — never the token.
func attemptAttrs(addr netip.Prefix, r *http.Request, more ...slog.Attr) []slog.Attr {
	client := "unknown" // a peer no address was derived for
	if addr.IsValid() {
		client = string(clientip.AppendKey([]byte("ip:"), addr))
	}
	return append([]slog.Attr{slog.String("client_id", client), core.ClientAttr("method", r.Method), core.ClientAttr("path", r.URL.Path)}, more...)
}

// authorized compares the bearer token of r with token in constant time: both are hashed
// first, so that neither the content nor the length of the token leaks through timing.
func authorized(r *http.Request, token string) bool {
	given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	g, t := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(g[:], t[:]) == 1 && ok
}

// reload serves POST /admin/reload.
func (a *Admin) reload(w http.ResponseWriter, _ *http.Request) {
	err := a.lim.ReloadFrom(a.load) // logs a failure

	var (
		invalid *config.ValidationError
		// A file that is not valid TOML (configfile.FileError), matched by its method so
		// that the net/http middleware links no configuration loader.
		file interface{ Problem() string }
	)
	switch {
	case errors.As(err, &invalid):
		problems := make([]string, len(invalid.Problems))
		for i, p := range invalid.Problems {
			problems[i] = p.String()
		}
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "invalid_configuration", "problems": problems})
	case errors.As(err, &file):
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "invalid_configuration", "problems": []string{file.Problem()}})
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "reload_failed", "message": err.Error()})
	default:
		writeJSON(w, http.StatusOK, map[string]string{"status": "reloaded"})
	}
}

// status serves GET /admin/limits.
func (a *Admin) status(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	st, err := a.lim.Status(r.Context(), q.Get("client"), q.Get("rule"), q.Get("tier"))
	if err != nil {
		writeLimitsError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// reset serves DELETE /admin/limits.
func (a *Admin) reset(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := a.lim.Reset(r.Context(), q.Get("client"), q.Get("rule")); err != nil {
		writeLimitsError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// writeLimitsError answers an error of Status or Reset: the caller's mistakes with their
// message, a backend failure without its cause (which names hosts), as 503s do.
func writeLimitsError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, core.ErrInvalidClient):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client", "message": err.Error()})
	case errors.Is(err, core.ErrUnknownRule):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown_rule", "message": err.Error()})
	default:
		w.Header().Set("Retry-After", strconv.FormatInt(core.RetryAfterSeconds(core.UnavailableRetry(err)), 10))
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "rate_limit_unavailable", "message": "The rate-limit backend is unavailable; retry later."})
	}
}

// failures remembers the failed attempts of each client address within failureWindow.
type failures struct {
	mu     sync.Mutex
	byAddr map[netip.Prefix][]time.Time // at most maxFailures each, oldest first
	// order holds every recorded failure, oldest first, so that the failures that left the
	// window are found from its front, each once: an attacker holding the table full, its
	// failures staggered so that one leaves the window at a time, costs a few steps per
	// request, not a scan of maxTrackedAddrs addresses under the lock.
	order  []failure
	visits int // the calls of recent, which tests count
	// known holds when each of at most maxKnownAddrs addresses last gave the right token.
	known map[netip.Prefix]time.Time
}

// attempt is one authentication attempt of addr at now. While addr is locked out it
// returns how long it stays so, without calling authorize; otherwise it reports what
// authorize says, recording a failure. It holds the lock throughout, so that concurrent
// guesses from one address cannot pass the check together.
func (f *failures) attempt(addr netip.Prefix, now time.Time, authorize func() bool) (lockedFor time.Duration, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expire(now) // on every attempt, so that f.order holds only failures still in the window
	ts := f.recent(addr, now)
	if len(ts) >= maxFailures {
		// A clock that stepped back never locks out for more than the window.
		return min(ts[0].Add(failureWindow).Sub(now), failureWindow), false
	}
	if ts == nil && len(f.byAddr) >= maxTrackedAddrs && !f.isKnown(addr, now) {
		// Every tracked address failed within the window: guesses from this many addresses
		// are an attack. Forgetting one of them would give it five more guesses, so new
		// addresses are refused, token unchecked, until room frees: not before the oldest
		// failure leaves the window (a clock that stepped back never makes it longer than
		// the window).
		wait := failureWindow
		if len(f.order) > 0 { // always: every tracked address has a failure in f.order
			wait = min(f.order[0].at.Add(failureWindow).Sub(now), failureWindow)
		}
		return max(wait, time.Second), false
	}
	if authorize() {
		f.remember(addr, now)
		return 0, true
	}
	f.byAddr[addr] = append(ts, now)
	f.order = append(f.order, failure{addr, now})
	return 0, false
}

// failure is one failed attempt, in failures.order.
type failure struct {
	addr netip.Prefix
	at   time.Time
}

// expire forgets the failures at the front of f.order that left the window, and the
// addresses left without one. After a clock step back the front may be younger than
// failures behind it: those wait for it, which delays room, never a lockout.
func (f *failures) expire(now time.Time) {
	for len(f.order) > 0 && now.Sub(f.order[0].at) >= failureWindow {
		a := f.order[0].addr
		f.order = f.order[1:]
		f.recent(a, now)
	}
}

// isKnown reports whether addr gave the right token within knownFor (a clock that
// stepped back counts it as known still).
func (f *failures) isKnown(addr netip.Prefix, now time.Time) bool {
	at, ok := f.known[addr]
	return ok && now.Sub(at) < knownFor
}

// remember records that addr gave the right token at now; when maxKnownAddrs addresses are
// known already, the one that authenticated longest ago is forgotten.
func (f *failures) remember(addr netip.Prefix, now time.Time) {
	if f.known == nil {
		f.known = map[netip.Prefix]time.Time{}
	}
	if _, ok := f.known[addr]; !ok && len(f.known) >= maxKnownAddrs {
		var oldest netip.Prefix
		var oldestAt time.Time
		first := true
		for a, at := range f.known {
			if first || at.Before(oldestAt) {
				oldest, oldestAt, first = a, at, false
			}
		}
		delete(f.known, oldest)
	}
	f.known[addr] = now
}

// recent drops the failures of addr older than failureWindow and returns the others.
func (f *failures) recent(addr netip.Prefix, now time.Time) []time.Time {
	f.visits++
	ts := f.byAddr[addr]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= failureWindow {
		i++
	}
	if i == len(ts) {
		delete(f.byAddr, addr)
		return nil
	}
	f.byAddr[addr] = ts[i:]
	return ts[i:]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
