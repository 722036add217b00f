// Package jwtauth identifies API clients by verified JSON Web Tokens.
//
// A [Verifier] reads the bearer token of an Authorization header, verifies its
// signature with the one configured key source — an HMAC secret, a PEM public key
// file (RSA, ECDSA or Ed25519) or a JWKS URL — and returns the user and tier claims
// as an [Identity]. Only the allowed algorithms are accepted (by default those of the
// key type) and "none" never is. exp and nbf are checked with a leeway; iss and aud
// when configured.
//
// A token that is missing, malformed, expired, not yet valid, badly signed or
// without a usable user claim is not an error: [Verifier.Identify] reports ok=false
// and the caller identifies the request by its IP as anonymous, so a forged token
// never earns a higher tier.
//
// [Config.Validate] checks a configuration without network access and reports every
// problem at once; [New] builds the Verifier. See docs/jwt.md for the full contract.
package jwtauth
