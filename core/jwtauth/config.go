package jwtauth

import "time"

// Config enables identification by verified bearer tokens. Exactly one key source
// (Secret, PublicKeyFile or JWKSURL) must be set when Enabled.
type Config struct {
	Enabled       bool          `koanf:"enabled"`
	Secret        string        `koanf:"secret"`          // HMAC secret
	PublicKeyFile string        `koanf:"public_key_file"` // PEM: RSA, ECDSA or Ed25519 public key
	JWKSURL       string        `koanf:"jwks_url"`
	Algorithms    []string      `koanf:"algorithms"` // default: the algorithms of the key type
	UserClaim     string        `koanf:"user_claim"` // default "sub"
	TierClaim     string        `koanf:"tier_claim"` // default "tier"
	Issuer        string        `koanf:"issuer"`
	Audience      string        `koanf:"audience"`
	Leeway        time.Duration `koanf:"leeway"` // default 30s; -1 = none
	// JWKSTimeout bounds how long a request whose token names an unknown kid waits for
	// the key set to be fetched again (default 500ms); the fetch goes on in the background.
	JWKSTimeout time.Duration `koanf:"jwks_timeout"`
}
