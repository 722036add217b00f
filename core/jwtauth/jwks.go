package jwtauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

const (
	// jwksFetchTimeout bounds every fetch of the key set: the first one in New, the
	// periodic refreshes, and a refresh triggered by an unknown kid. None of them runs
	// on a request's path longer than jwt.jwks_timeout.
	jwksFetchTimeout = 10 * time.Second
	// jwksRefreshInterval is how often the key set is fetched again in the background: as
	// often as a verified token is trusted without verifying it again (cacheMaxAge), so
	// that a key removed from the set is honoured at most twice that long — a token
	// verified just before the refresh stays cached for cacheMaxAge more. One small GET
	// per instance every 5 minutes; an hour let a leaked key verify new tokens for an hour.
	jwksRefreshInterval = cacheMaxAge
	// jwksUnknownKIDInterval is the least time between two refreshes triggered by
	// tokens with an unknown kid, whatever the traffic.
	jwksUnknownKIDInterval = 5 * time.Minute
)

// jwksKeys is the key set of a jwks_url: fetched when it is built, refreshed every
// jwksRefreshInterval in the background, and when a token names a kid it does not hold
// — at most once per jwksUnknownKIDInterval. Such a refresh runs in the background too:
// requests wait for it at most wait, then go on without the key (the token does not
// verify: the request is anonymous), and the fetched set serves the requests after.
type jwksKeys struct {
	ctx    context.Context // ends the background work with the Verifier
	store  jwkset.Storage  // the fetched keys; reading it never touches the network
	client jwkset.Storage  // store behind a reader that fetches the set for an unknown kid
	lookup jwt.Keyfunc     // keyfunc's: kid → key of store, alg and use checked
	wait   time.Duration   // jwt.jwks_timeout
	now    func() time.Time

	mu       sync.Mutex
	last     time.Time     // start of the last refresh triggered by an unknown kid
	inflight chan struct{} // closed when the running triggered refresh ends; nil if none
}

// newJWKSKeyfunc fetches the key set at rawURL and returns a key function that looks
// keys up by the token's kid (all keys are tried when it has none), as [jwksKeys]
// describes, until ctx is done.
func newJWKSKeyfunc(ctx context.Context, rawURL string, client *http.Client, wait time.Duration, now func() time.Time) (jwt.Keyfunc, error) {
	store, err := jwkset.NewStorageFromHTTP(rawURL, jwkset.HTTPClientStorageOptions{
		Client:          capped(client),
		Ctx:             ctx,
		HTTPTimeout:     jwksFetchTimeout,
		RefreshInterval: jwksRefreshInterval,
		RefreshErrorHandler: func(ctx context.Context, err error) {
			slog.Default().WarnContext(ctx, "jwks_refresh_failed", slog.String("url", rawURL), slog.String("error", firstLine(err.Error())))
		},
	})
	if err != nil {
		return nil, fmt.Errorf("jwks_url: cannot fetch the key set from %q: %s", rawURL, firstLine(err.Error()))
	}
	keys, err := store.KeyReadAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("jwks_url: cannot read the key set from %q: %s", rawURL, firstLine(err.Error()))
	}
	if !slices.ContainsFunc(keys, func(k jwkset.JWK) bool { return isAsymmetric(k.Key()) }) {
		return nil, fmt.Errorf("jwks_url: no usable RSA, ECDSA or Ed25519 key in the key set from %q", rawURL)
	}
	// The reader refreshes the set whenever it misses a kid; jwksKeys decides when it may.
	refreshing, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:          map[string]jwkset.Storage{rawURL: store},
		RefreshUnknownKID: rate.NewLimiter(rate.Inf, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("jwks_url: %s", firstLine(err.Error()))
	}
	kf, err := keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: store})
	if err != nil {
		return nil, fmt.Errorf("jwks_url: %s", firstLine(err.Error()))
	}
	j := &jwksKeys{ctx: ctx, store: store, client: refreshing, lookup: kf.Keyfunc, wait: wait, now: now}
	return j.keyfunc, nil
}

// jwksMaxBytes bounds a key set response: real sets are a few KiB, and an unknown kid
// makes the limiter fetch one, so a key set server that answers gigabytes must not be read
// to the end.
const jwksMaxBytes = 1 << 20

// capped returns a copy of client (http.DefaultClient when nil) whose response bodies fail
// past jwksMaxBytes.
func capped(client *http.Client) *http.Client {
	if client == nil {
		client = http.DefaultClient
	}
	c := *client
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = cappedTransport{base}
	return &c
}

type cappedTransport struct{ base http.RoundTripper }

func (t cappedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err == nil {
		resp.Body = http.MaxBytesReader(nil, resp.Body, jwksMaxBytes)
	}
	return resp, err
}

// keyfunc is the jwt.Keyfunc of the key set.
func (j *jwksKeys) keyfunc(t *jwt.Token) (any, error) {
	got, err := j.lookup(t)
	if errors.Is(err, jwkset.ErrKeyNotFound) {
		kid, _ := t.Header[jwkset.HeaderKID].(string)
		if !j.awaitRefresh(kid) {
			return nil, err
		}
		got, err = j.lookup(t)
	}
	if err != nil {
		return nil, err
	}
	if set, ok := got.(jwt.VerificationKeySet); ok {
		// No kid: try only the keys of the token's algorithm family.
		fitting := jwt.VerificationKeySet{Keys: make([]jwt.VerificationKey, 0, len(set.Keys))}
		for _, k := range set.Keys {
			if keyFits(k, t.Method) {
				fitting.Keys = append(fitting.Keys, k)
			}
		}
		if len(fitting.Keys) == 0 {
			return nil, errKeyMismatch
		}
		return fitting, nil
	}
	if !keyFits(got, t.Method) {
		return nil, errKeyMismatch
	}
	return got, nil
}

// awaitRefresh joins the running refresh triggered by an unknown kid, or starts one for
// kid unless one started within jwksUnknownKIDInterval, and waits for it at most j.wait.
// It reports whether a refresh ended within the wait, so the set may now hold the kid.
func (j *jwksKeys) awaitRefresh(kid string) bool {
	j.mu.Lock()
	done := j.inflight
	if done == nil {
		now := j.now()
		if !j.last.IsZero() && now.Sub(j.last) < jwksUnknownKIDInterval && now.Sub(j.last) >= 0 {
			j.mu.Unlock()
			return false
		}
		j.last = now
		done = make(chan struct{})
		j.inflight = done
		go j.fetch(kid, done)
	}
	j.mu.Unlock()
	timer := time.NewTimer(j.wait)
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.C:
		return false
	case <-j.ctx.Done():
		return false
	}
}

// fetch fetches the key set again (reading an unknown kid through the refreshing reader
// does), bounded by jwksFetchTimeout, then closes done.
func (j *jwksKeys) fetch(kid string, done chan struct{}) {
	ctx, cancel := context.WithTimeout(j.ctx, jwksFetchTimeout)
	_, _ = j.client.KeyRead(ctx, kid) // a failure is logged by the store's error handler
	cancel()
	j.mu.Lock()
	j.inflight = nil
	j.mu.Unlock()
	close(done)
}

// isAsymmetric reports whether key, as stored in a JWK set, is an RSA, ECDSA or
// Ed25519 key (public or private).
func isAsymmetric(key any) bool {
	switch key.(type) {
	case *rsa.PublicKey, *rsa.PrivateKey, *ecdsa.PublicKey, *ecdsa.PrivateKey, ed25519.PublicKey, ed25519.PrivateKey:
		return true
	}
	return false
}

// firstLine returns s up to its first newline; errors.Join'ed library errors span
// several lines, and a validation problem is one line.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
