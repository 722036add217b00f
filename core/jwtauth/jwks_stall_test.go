package jwtauth_test

import (
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/jwtauth"
)

// stall makes the requests from now on wait; the returned function releases them.
func (s *jwksServer) stall(t *testing.T) (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.released = ch
	s.mu.Unlock()
	var once sync.Once
	release = func() {
		once.Do(func() {
			s.mu.Lock()
			s.released = nil
			s.mu.Unlock()
			close(ch)
		})
	}
	t.Cleanup(release) // before the server closes: cleanups run last-in first-out
	return release
}

// TestJWKSStallNeverHoldsARequest: against a JWKS server that stops answering, a token
// with an unknown kid is decided (as not verified) while the server is still stalled,
// within jwks_timeout rather than the 10 s a fetch may take; the fetch it triggered goes
// on in the background and serves the requests after it; such fetches are rate-limited.
func TestJWKSStallNeverHoldsARequest(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, jwk{"rsa-1", &rsaKey().PublicKey})
	clk := adaptertest.NewClock()
	require.True(t, clk.Now().Equal(now), "the clock starts at the instant the test tokens are made for")
	cfg := jwksConfig(srv.URL)
	cfg.JWKSTimeout = 100 * time.Millisecond
	v := newVerifier(t, cfg, jwtauth.WithClock(clk.Now))
	require.EqualValues(t, 1, srv.requests.Load(), "New fetches the set")

	release := srv.stall(t)
	srv.set(t, jwk{"rsa-1", &rsaKey().PublicKey}, jwk{"ec-2", &ecP256Key().PublicKey})
	rotated := "Bearer " + sign(t, jwt.SigningMethodES256, ecP256Key(), claims("standard"), "ec-2")

	start := time.Now()
	_, ok := v.Identify(rotated)
	waited := time.Since(start)
	assert.False(t, ok, "the key is not there yet")
	assert.EqualValues(t, 1, srv.stalled.Load(), "decided while the server still holds the fetch")
	assert.Less(t, waited, 5*time.Second, "bounded by jwks_timeout (100ms), not by the fetch timeout (10s)")
	t.Logf("a request with an unknown kid waited %s on a stalled JWKS server (jwks_timeout 100ms)", waited)

	// Requests during the fetch join it (waiting at most jwks_timeout); none starts another.
	for range 3 {
		_, ok := v.Identify(rotated)
		assert.False(t, ok)
	}
	_, ok = v.Identify("Bearer " + sign(t, jwt.SigningMethodRS256, rsaKey(), claims("premium"), "rsa-1"))
	assert.True(t, ok, "known keys verify without waiting")
	assert.EqualValues(t, 2, srv.requests.Load())

	// The server answers: the background fetch stores the rotated key.
	release()
	require.Eventually(t, func() bool { _, ok := v.Identify(rotated); return ok }, 10*time.Second, 5*time.Millisecond)
	assert.EqualValues(t, 2, srv.requests.Load(), "one fetch served every request")

	// Unknown kids fetch again at most once per 5 minutes, whatever the traffic.
	unknown := "Bearer " + sign(t, jwt.SigningMethodRS256, rsaKey(), claims("premium"), "nope")
	for range 10 {
		_, ok := v.Identify(unknown)
		assert.False(t, ok)
	}
	assert.EqualValues(t, 2, srv.requests.Load())
	clk.Advance(5 * time.Minute)
	_, ok = v.Identify(unknown)
	assert.False(t, ok)
	assert.EqualValues(t, 3, srv.requests.Load(), "5 minutes later an unknown kid fetches again")
}

func TestJWKSTimeoutIsValidated(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{-time.Second, 11 * time.Second} {
		cfg := jwksConfig("https://idp.example.com/jwks.json")
		cfg.JWKSTimeout = d
		assert.EqualError(t, cfg.Validate(), `jwks_timeout: must be > 0 and ≤ 10s (the time a fetch of the key set may take), got "`+d.String()+`"`)
	}
	cfg := jwksConfig("https://idp.example.com/jwks.json")
	cfg.JWKSTimeout = 10 * time.Second
	assert.NoError(t, cfg.Validate())
}

// TestJWKSRefreshesInTheBackground: the key set is fetched again every 5 minutes without a
// request asking for it, so a key rotated into the set verifies without a fetch of its
// own, and a key removed from it stops verifying. The minutes pass in a testing/synctest
// bubble; the key set server is a real one on loopback, outside the bubble.
func TestJWKSRefreshesInTheBackground(t *testing.T) {
	t.Parallel()
	const refresh = 5 * time.Minute // docs/jwt.md
	srv := newJWKSServer(t, jwk{"rsa-1", &rsaKey().PublicKey})
	synctest.Test(t, func(t *testing.T) {
		// No idle connection may outlive the bubble: each fetch opens its own.
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		v := newVerifier(t, jwksConfig(srv.URL), jwtauth.WithHTTPClient(client))
		require.EqualValues(t, 1, srv.requests.Load(), "New fetches the set")
		old := "Bearer " + sign(t, jwt.SigningMethodRS256, rsaKey(), claims("premium"), "rsa-1")
		_, ok := v.Identify(old)
		require.True(t, ok)

		// The identity provider rotates: ec-2 in, rsa-1 out.
		srv.set(t, jwk{"ec-2", &ecP256Key().PublicKey})
		time.Sleep(refresh - time.Second)
		synctest.Wait()
		assert.EqualValues(t, 1, srv.requests.Load(), "no refresh before 5 minutes")
		time.Sleep(time.Second)
		synctest.Wait() // the refresh the interval started has its answer
		assert.EqualValues(t, 2, srv.requests.Load(), "the periodic refresh")

		_, ok = v.Identify("Bearer " + sign(t, jwt.SigningMethodES256, ecP256Key(), claims("standard"), "ec-2"))
		assert.True(t, ok, "the rotated-in key verifies")
		assert.EqualValues(t, 2, srv.requests.Load(), "from the set the background fetched")

		time.Sleep(refresh)
		synctest.Wait()
		assert.EqualValues(t, 3, srv.requests.Load(), "and again 5 minutes later")

		// A token of the removed key, not verified before, no longer verifies (its unknown
		// kid fetches once more, and the set still lacks it).
		_, ok = v.Identify("Bearer " + sign(t, jwt.SigningMethodRS256, rsaKey(), claims("standard"), "rsa-1"))
		assert.False(t, ok, "the removed key no longer verifies")
	})
}
