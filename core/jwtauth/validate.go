package jwtauth

import (
	"crypto"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/ratewarden/ratewarden/core/internal/defaults"
	"github.com/ratewarden/ratewarden/core/internal/problem"
)

const (
	// minSecretLen is the shortest HMAC secret accepted: 256 bits, the HS256 hash
	// size that RFC 7518 section 3.2 requires as a minimum key size.
	minSecretLen = 32
)

// settings is a checked Config with its defaults applied.
type settings struct {
	kind       keyKind
	key        crypto.PublicKey // []byte for HMAC, nil for JWKS
	algorithms []string
	userClaim  string
	tierClaim  string
	leeway     time.Duration
	jwksWait   time.Duration
}

// Validate checks c without network access and reports every problem at once. Each problem is one line that names the key relative
// to the [jwt] section and the bad value, for example
//
//	algorithms[1]: unknown or unsupported algorithm, got "none"
//
// Secrets are never quoted. A public_key_file is read and parsed; a jwks_url is only
// checked for form (it is fetched by [New]). Validate returns nil when c.Enabled is
// false.
func (c Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	_, err := c.resolve()
	return err
}

// resolve validates c like Validate and returns the settings New builds a Verifier from.
func (c Config) resolve() (settings, error) {
	var problems problem.List
	bad := problems.Add
	s := settings{
		userClaim: c.UserClaim,
		tierClaim: c.TierClaim,
		leeway:    c.Leeway,
	}

	sources := 0
	for _, set := range []bool{c.Secret != "", c.PublicKeyFile != "", c.JWKSURL != ""} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		bad("secret", "exactly one of secret, public_key_file and jwks_url must be set")
	}

	if c.Secret != "" {
		if len(c.Secret) < minSecretLen {
			bad("secret", "must be at least %d bytes long, got %d bytes", minSecretLen, len(c.Secret))
		}
		if sources == 1 {
			s.kind, s.key = kindHMAC, []byte(c.Secret)
		}
	}
	if c.PublicKeyFile != "" {
		key, kind, err := readPublicKey(c.PublicKeyFile)
		switch {
		case err != nil:
			bad("public_key_file", "%v", err)
		case sources == 1:
			s.kind, s.key = kind, key
		}
	}
	if c.JWKSURL != "" {
		u, err := url.Parse(c.JWKSURL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			bad("jwks_url", "must be an http or https URL, got %q", c.JWKSURL)
		case sources == 1:
			s.kind = kindJWKS
		}
	}

	for i, alg := range c.Algorithms {
		key := fmt.Sprintf("algorithms[%d]", i)
		switch {
		case !knownAlgorithm(alg):
			bad(key, "unknown or unsupported algorithm, got %q", alg)
		case s.kind != kindUnknown && !s.kind.fits(alg):
			bad(key, "%q does not fit %s", alg, s.kind)
		}
	}
	if len(c.Algorithms) > 0 {
		s.algorithms = slices.Clone(c.Algorithms) // the caller may reuse its slice
	} else {
		s.algorithms = s.kind.defaultAlgorithms()
	}

	switch {
	case c.Leeway == 0:
		s.leeway = defaults.Leeway
	case c.Leeway == -1 || c.Leeway == -time.Second: // -1 (or "-1" read as integer seconds) = no leeway
		s.leeway = 0
	case c.Leeway < 0:
		bad("leeway", "must be ≥ 0 (or -1 for none), got %q", c.Leeway.String())
	}

	switch {
	case c.JWKSTimeout == 0:
		s.jwksWait = defaults.JWKSTimeout
	case c.JWKSTimeout < 0 || c.JWKSTimeout > jwksFetchTimeout:
		bad("jwks_timeout", "must be > 0 and ≤ %s (the time a fetch of the key set may take), got %q", jwksFetchTimeout, c.JWKSTimeout.String())
	default:
		s.jwksWait = c.JWKSTimeout
	}

	if s.userClaim == "" {
		s.userClaim = defaults.UserClaim
	}
	if s.tierClaim == "" {
		s.tierClaim = defaults.TierClaim
	}
	return s, problems.Err()
}
