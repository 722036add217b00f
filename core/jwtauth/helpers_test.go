package jwtauth_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/jwtauth"
)

// now is the fixed instant every test verifies tokens at.
var now = time.Date(2025, 11, 26, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// testSecret is a 32-byte HMAC secret; attackerSecret is another one.
const (
	testSecret     = "0123456789abcdef0123456789abcdef"
	attackerSecret = "fedcba9876543210fedcba9876543210"
)

// Keys are generated once per test binary: RSA generation is slow under -race.
var (
	rsaKey         = sync.OnceValue(func() *rsa.PrivateKey { return must(rsa.GenerateKey(rand.Reader, 2048)) })
	rsaAttackerKey = sync.OnceValue(func() *rsa.PrivateKey { return must(rsa.GenerateKey(rand.Reader, 2048)) })
	ecP256Key      = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) })
	ecP256Attacker = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) })
	ecP384Key      = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader)) })
	ecP521Key      = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P521(), rand.Reader)) })
	edKey          = sync.OnceValue(func() ed25519.PrivateKey { _, k := must2(ed25519.GenerateKey(rand.Reader)); return k })
	edAttackerKey  = sync.OnceValue(func() ed25519.PrivateKey { _, k := must2(ed25519.GenerateKey(rand.Reader)); return k })
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

// writePEM writes the PKIX "PUBLIC KEY" PEM of pub into a temporary file and returns its path.
func writePEM(t testing.TB, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	return writeFile(t, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// writeFile writes data into a fresh file under t.TempDir and returns its path.
func writeFile(t testing.TB, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key.pem")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

// sign returns a token with claims signed by key with method; a non-empty kid goes
// into the header.
func sign(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// unsignedToken builds an "alg: none" token by hand: header.payload. with an empty signature.
func unsignedToken(payload string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(payload)) + "."
}

// claims returns typical valid claims for user alice on the given tier, expiring in an hour.
func claims(tier string) jwt.MapClaims {
	return jwt.MapClaims{"sub": "alice", "tier": tier, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
}

// newVerifier builds a Verifier with the fixed clock and closes it at the end of the test.
func newVerifier(t testing.TB, cfg jwtauth.Config, opts ...jwtauth.Option) *jwtauth.Verifier {
	t.Helper()
	v, err := jwtauth.New(cfg, append([]jwtauth.Option{jwtauth.WithClock(clock)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(v.Close)
	return v
}

func secretConfig() jwtauth.Config { return jwtauth.Config{Enabled: true, Secret: testSecret} }

func keyConfig(t testing.TB, pub any) jwtauth.Config {
	return jwtauth.Config{Enabled: true, PublicKeyFile: writePEM(t, pub)}
}
