package jwtauth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"slices"

	"github.com/golang-jwt/jwt/v5"
)

// keyKind is the kind of verification key a configuration provides.
type keyKind int

const (
	kindUnknown keyKind = iota // no key source, several, or an unreadable key file
	kindHMAC
	kindRSA
	kindES256 // ECDSA P-256
	kindES384 // ECDSA P-384
	kindES512 // ECDSA P-521
	kindEd25519
	kindJWKS
)

var (
	hmacAlgs       = []string{"HS256", "HS384", "HS512"}
	rsaAlgs        = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	asymmetricAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)

// knownAlgorithm reports whether alg is a signing algorithm this package verifies.
// "none" is not one.
func knownAlgorithm(alg string) bool {
	return slices.Contains(hmacAlgs, alg) || slices.Contains(asymmetricAlgs, alg)
}

// defaultAlgorithms returns the algorithms accepted for a key kind when none are configured.
func (k keyKind) defaultAlgorithms() []string {
	switch k {
	case kindHMAC:
		return hmacAlgs
	case kindRSA:
		return rsaAlgs
	case kindES256:
		return []string{"ES256"}
	case kindES384:
		return []string{"ES384"}
	case kindES512:
		return []string{"ES512"}
	case kindEd25519:
		return []string{"EdDSA"}
	case kindJWKS:
		return asymmetricAlgs
	}
	return nil
}

// fits reports whether alg can be verified with a key of kind k.
func (k keyKind) fits(alg string) bool {
	return slices.Contains(k.defaultAlgorithms(), alg)
}

// String describes the key kind for error messages ("does not fit an RSA public key").
func (k keyKind) String() string {
	switch k {
	case kindHMAC:
		return "an HMAC secret"
	case kindRSA:
		return "an RSA public key"
	case kindES256:
		return "an ECDSA P-256 public key"
	case kindES384:
		return "an ECDSA P-384 public key"
	case kindES512:
		return "an ECDSA P-521 public key"
	case kindEd25519:
		return "an Ed25519 public key"
	case kindJWKS:
		return "a JWKS key set (asymmetric keys only)"
	}
	return "an unknown key"
}

// keyFits reports whether key is the right type of verification key for the signing
// method m. It is checked for every token on top of the algorithm allow-list, so that
// no token can have its signature checked by a key of another family (HS/RS confusion).
func keyFits(key any, m jwt.SigningMethod) bool {
	switch m := m.(type) {
	case *jwt.SigningMethodHMAC:
		_, ok := key.([]byte)
		return ok
	case *jwt.SigningMethodRSA, *jwt.SigningMethodRSAPSS:
		_, ok := key.(*rsa.PublicKey)
		return ok
	case *jwt.SigningMethodECDSA:
		k, ok := key.(*ecdsa.PublicKey)
		return ok && k.Curve != nil && k.Curve.Params().BitSize == m.CurveBits
	case *jwt.SigningMethodEd25519:
		_, ok := key.(ed25519.PublicKey)
		return ok
	}
	return false
}
