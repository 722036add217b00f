package jwtauth_test

import (
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkIdentify measures verifying a valid HS256 token, the common hot path.
func BenchmarkIdentify(b *testing.B) {
	v := newVerifier(b, secretConfig())
	header := "Bearer " + sign(b, jwt.SigningMethodHS256, []byte(testSecret), claims("premium"), "")
	if _, ok := v.Identify(header); !ok {
		b.Fatal("token rejected")
	}
	b.ReportAllocs()
	for b.Loop() {
		v.Identify(header)
	}
}

// BenchmarkIdentifyForged measures rejecting an HS256 token signed with another
// secret: the cost of an anonymous request carrying a forged token.
func BenchmarkIdentifyForged(b *testing.B) {
	v := newVerifier(b, secretConfig())
	header := "Bearer " + sign(b, jwt.SigningMethodHS256, []byte(attackerSecret), claims("premium"), "")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := v.Identify(header); ok {
			b.Fatal("forged token accepted")
		}
	}
}
