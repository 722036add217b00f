package jwtauth_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/jwtauth"
)

// movingClock is a clock the cache tests advance.
type movingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movingClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *movingClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestAVerifiedTokenIsAnsweredFromTheCacheWithoutAllocating(t *testing.T) {
	v := newVerifier(t, secretConfig())
	header := "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(testSecret), claims("premium"), "")
	id, ok := v.Identify(header)
	require.True(t, ok)
	allocs := testing.AllocsPerRun(100, func() {
		got, ok := v.Identify(header)
		if !ok || got != id {
			t.Fatal("the cached identity changed")
		}
	})
	assert.Zero(t, allocs)
}

func TestTheCacheNeverOutlivesTheToken(t *testing.T) {
	t.Parallel()
	c := &movingClock{t: now}
	v := newVerifier(t, jwtauth.Config{Enabled: true, Secret: testSecret, Leeway: -1}, jwtauth.WithClock(c.now))
	header := "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{"sub": "alice", "exp": now.Add(time.Minute).Unix()}, "")
	_, ok := v.Identify(header)
	require.True(t, ok)
	c.advance(59 * time.Second)
	_, ok = v.Identify(header)
	assert.True(t, ok, "still valid, from the cache")
	c.advance(time.Second)
	_, ok = v.Identify(header)
	assert.False(t, ok, "expired: the cache does not extend a token's life")
}

func TestACachedTokenDoesNotVouchForAForgedVariant(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, secretConfig())
	good := sign(t, jwt.SigningMethodHS256, []byte(testSecret), claims("standard"), "")
	_, ok := v.Identify("Bearer " + good)
	require.True(t, ok)
	forged := sign(t, jwt.SigningMethodHS256, []byte(attackerSecret), claims("premium"), "")
	_, ok = v.Identify("Bearer " + forged)
	assert.False(t, ok)
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + strings.TrimRight(parts[1], "=") + "x." + parts[2]
	_, ok = v.Identify("Bearer " + tampered)
	assert.False(t, ok, "same signature, other payload")
}

func TestTheCacheIsBounded(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, secretConfig())
	var first string
	for i := 0; i < 10_100; i++ {
		tok := "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{"sub": "u", "n": i, "exp": now.Add(time.Hour).Unix()}, "")
		if i == 0 {
			first = tok
		}
		_, ok := v.Identify(tok)
		require.True(t, ok)
	}
	_, ok := v.Identify(first)
	assert.True(t, ok, "an evicted token is verified again, not refused")
}
