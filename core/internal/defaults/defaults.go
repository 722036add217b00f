// Package defaults holds the defaults that package config documents and that the clientip
// and jwtauth sections also apply on their own (their zero Config is usable without
// package config): written once here, so the three cannot disagree.
package defaults

import "time"

// The defaults of the client_ip and jwt sections.
const (
	IPv6Prefix  = 64                     // client_ip.ipv6_prefix
	UserClaim   = "sub"                  // jwt.user_claim
	TierClaim   = "tier"                 // jwt.tier_claim
	Leeway      = 30 * time.Second       // jwt.leeway
	JWKSTimeout = 500 * time.Millisecond // jwt.jwks_timeout
)
