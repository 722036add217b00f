package jwtauth

import (
	"context"
	"crypto"
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// maxTokenLen bounds the bearer tokens Identify looks at; longer ones are rejected
// before any decoding.
const maxTokenLen = 16 << 10

// errKeyMismatch is returned by key functions when the token's algorithm does not
// belong to the key's family.
var errKeyMismatch = errors.New("ratewarden: token algorithm does not fit the verification key")

// Identity is who a verified token says the caller is.
type Identity struct {
	// User is the token's user claim (jwt.user_claim, default "sub"); never empty.
	User string
	// Tier is the token's tier claim (jwt.tier_claim, default "tier"), or "" when the
	// claim is absent or not a string. The caller decides what an empty tier means.
	Tier string
}

// Verifier verifies bearer tokens and extracts their identity. It is safe for
// concurrent use. A nil *Verifier, or one built from a Config that is not Enabled,
// identifies nobody: Identify always reports ok=false.
type Verifier struct {
	parser    *jwt.Parser
	keyFunc   jwt.Keyfunc
	userClaim string
	tierClaim string
	leeway    time.Duration
	now       func() time.Time
	cache     *tokenCache
	cancel    context.CancelFunc // stops the JWKS refresh; nil for static keys
}

// New validates cfg as [Config.Validate] does and builds a Verifier from it. For a
// jwks_url it fetches the key set before returning (failing when the fetch fails or
// the set holds no usable key) and keeps it refreshed in the background until
// [Verifier.Close]; a token with an unknown kid triggers a refresh (at most one per
// five minutes) that its request waits for at most JWKSTimeout. Zero values of UserClaim, TierClaim and Leeway mean their
// defaults ("sub", "tier", 30s); a Leeway of -1 means none.
func New(cfg Config, opts ...Option) (*Verifier, error) {
	if !cfg.Enabled {
		return &Verifier{}, nil
	}
	s, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt.apply(&o)
		}
	}

	v := &Verifier{userClaim: s.userClaim, tierClaim: s.tierClaim, leeway: s.leeway, now: time.Now, cache: newTokenCache()}
	if o.now != nil {
		v.now = o.now
	}
	if s.kind == kindJWKS {
		ctx, cancel := context.WithCancel(context.Background())
		kf, err := newJWKSKeyfunc(ctx, cfg.JWKSURL, o.client, s.jwksWait, v.now)
		if err != nil {
			cancel()
			return nil, err
		}
		v.keyFunc, v.cancel = kf, cancel
	} else {
		v.keyFunc = staticKeyfunc(s.key)
	}

	popts := []jwt.ParserOption{
		jwt.WithValidMethods(s.algorithms),
		jwt.WithLeeway(s.leeway),
	}
	if o.now != nil {
		popts = append(popts, jwt.WithTimeFunc(o.now))
	}
	if cfg.Issuer != "" {
		popts = append(popts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		popts = append(popts, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(popts...)
	return v, nil
}

// staticKeyfunc returns a key function that hands out key only to tokens whose
// algorithm belongs to the key's family.
func staticKeyfunc(key crypto.PublicKey) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		if !keyFits(key, t.Method) {
			return nil, errKeyMismatch
		}
		return key, nil
	}
}

// Identify verifies the bearer token of an Authorization header value
// ("Bearer <token>", the scheme matched case-insensitively) and returns the identity
// it carries.
//
// ok is false — and the request should be identified by IP as anonymous — for a
// missing or malformed header or token, a token signed with another key or an
// algorithm outside the allow-list (never "none"), an expired or not yet valid token
// (exp and nbf give or take the leeway; a token without exp does not expire), a wrong
// iss or aud when those are configured, a token longer than 16 KiB, and a token whose
// user claim is missing, empty or not a string. Identify never panics, whatever the
// input.
func (v *Verifier) Identify(authorization string) (id Identity, ok bool) {
	if v == nil || v.parser == nil {
		return Identity{}, false
	}
	raw, ok := bearerToken(authorization)
	if !ok {
		return Identity{}, false
	}
	now := v.now()
	if id, ok := v.cache.get(raw, now); ok {
		return id, true
	}
	claims := jwt.MapClaims{}
	if _, err := v.parser.ParseWithClaims(raw, claims, v.keyFunc); err != nil {
		return Identity{}, false
	}
	user, ok := claims[v.userClaim].(string)
	if !ok || user == "" {
		return Identity{}, false
	}
	tier, _ := claims[v.tierClaim].(string)
	id = Identity{User: user, Tier: tier}
	v.cache.put(raw, v.validity(id, claims, now), now)
	return id, true
}

// validity is how long a token that verified at now may be answered from the cache:
// until exp + leeway, and at most cacheMaxAge.
func (v *Verifier) validity(id Identity, claims jwt.MapClaims, now time.Time) cachedToken {
	e := cachedToken{id: id, validUntil: now.Add(cacheMaxAge)}
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		e.validUntil = minTime(e.validUntil, exp.Add(v.leeway))
	}
	if nbf, err := claims.GetNotBefore(); err == nil && nbf != nil {
		e.validFrom = nbf.Add(-v.leeway)
	}
	return e
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// bearerToken returns the token of a "Bearer <token>" header value. The scheme is
// case-insensitive and may be followed by several spaces or tabs.
func bearerToken(h string) (string, bool) {
	const scheme = "Bearer"
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	if c := h[len(scheme)]; c != ' ' && c != '\t' {
		return "", false
	}
	tok := strings.Trim(h[len(scheme):], " \t")
	if tok == "" || len(tok) > maxTokenLen {
		return "", false
	}
	return tok, true
}

// Close stops the background refresh of a JWKS key set. It is safe to call more than
// once, and on a nil Verifier; Identify keeps working with the keys already fetched.
func (v *Verifier) Close() {
	if v == nil || v.cancel == nil {
		return
	}
	v.cancel() // a CancelFunc may be called repeatedly and concurrently
}
