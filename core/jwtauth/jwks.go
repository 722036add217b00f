package jwtauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

const (
	// jwksTimeout bounds every fetch of the key set: the first one in New, the
	// periodic refreshes, and a refresh triggered by an unknown kid.
	jwksTimeout = 10 * time.Second
	// jwksRefreshInterval is how often the key set is fetched again in the background.
	jwksRefreshInterval = time.Hour
)

// newJWKSKeyfunc fetches the key set at rawURL and returns a key function that
// looks keys up by the token's kid (all keys are tried when it has none). The key
// set is refreshed every jwksRefreshInterval, and at most once per five minutes
// when a token names an unknown kid, until ctx is done.
func newJWKSKeyfunc(ctx context.Context, rawURL string, client *http.Client) (jwt.Keyfunc, error) {
	noStartWithoutKeys := false
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{rawURL}, keyfunc.Override{
		Client:                    client,
		HTTPTimeout:               jwksTimeout,
		NoErrorReturnFirstHTTPReq: &noStartWithoutKeys,
		RateLimitWaitMax:          jwksTimeout,
		RefreshInterval:           jwksRefreshInterval,
	})
	if err != nil {
		return nil, fmt.Errorf("jwks_url: cannot fetch the key set from %q: %s", rawURL, firstLine(err.Error()))
	}
	keys, err := kf.Storage().KeyReadAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("jwks_url: cannot read the key set from %q: %s", rawURL, firstLine(err.Error()))
	}
	if !slices.ContainsFunc(keys, func(k jwkset.JWK) bool { return isAsymmetric(k.Key()) }) {
		return nil, fmt.Errorf("jwks_url: no usable RSA, ECDSA or Ed25519 key in the key set from %q", rawURL)
	}
	lookup := kf.Keyfunc
	return func(t *jwt.Token) (any, error) {
		got, err := lookup(t)
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
	}, nil
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
