package jwtauth

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
)

func TestACachedTokenIsTrustedForAtMostTheMaximumAge(t *testing.T) {
	t.Parallel()
	v := &Verifier{leeway: 30 * time.Second}
	c := newTokenCache()
	at := time.Unix(1_764_158_400, 0)
	claims := jwt.MapClaims{"exp": float64(at.Add(time.Hour).Unix()), "nbf": float64(at.Unix())}
	c.put("token", v.validity(Identity{User: "alice"}, claims, at), at)

	_, ok := c.get("token", at.Add(cacheMaxAge-time.Nanosecond))
	assert.True(t, ok)
	_, ok = c.get("token", at.Add(cacheMaxAge))
	assert.False(t, ok, "verified again after the maximum age, although exp is an hour away")
	_, ok = c.get("token", at.Add(-31*time.Second))
	assert.False(t, ok, "not before nbf − leeway")
}

func TestACachedTokenEndsAtItsExpiryPlusLeeway(t *testing.T) {
	t.Parallel()
	v := &Verifier{leeway: 30 * time.Second}
	at := time.Unix(1_764_158_400, 0)
	e := v.validity(Identity{User: "alice"}, jwt.MapClaims{"exp": float64(at.Add(time.Minute).Unix())}, at)
	assert.Equal(t, at.Add(90*time.Second), e.validUntil)
}

// TestARemovedKeyIsHonouredAtMostTenMinutes states the bound docs/jwt.md gives: a key
// removed from a JWKS set verifies new tokens until the next refresh, and a token verified
// just before it stays cached for cacheMaxAge more. With an hourly refresh, a removed
// (leaked) key verified new tokens for an hour (found by an attacker review).
func TestARemovedKeyIsHonouredAtMostTenMinutes(t *testing.T) {
	if bound := jwksRefreshInterval + cacheMaxAge; bound > 10*time.Minute {
		t.Errorf("a removed key is honoured up to %s (refresh every %s, cache %s), over the documented 10 minutes", bound, jwksRefreshInterval, cacheMaxAge)
	}
}
