package jwtauth_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/jwtauth"
)

func TestIdentifyKeysAndAlgorithms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cfg    func(t *testing.T) jwtauth.Config
		method jwt.SigningMethod
		key    any
		want   bool
	}{
		{"HS256", func(*testing.T) jwtauth.Config { return secretConfig() }, jwt.SigningMethodHS256, []byte(testSecret), true},
		{"HS384 allowed by default", func(*testing.T) jwtauth.Config { return secretConfig() }, jwt.SigningMethodHS384, []byte(testSecret), true},
		{"HS512 allowed by default", func(*testing.T) jwtauth.Config { return secretConfig() }, jwt.SigningMethodHS512, []byte(testSecret), true},
		{"RS256", rsaConfig, jwt.SigningMethodRS256, rsaKey(), true},
		{"RS512", rsaConfig, jwt.SigningMethodRS512, rsaKey(), true},
		{"PS256", rsaConfig, jwt.SigningMethodPS256, rsaKey(), true},
		{"ES256", func(t *testing.T) jwtauth.Config { return keyConfig(t, &ecP256Key().PublicKey) }, jwt.SigningMethodES256, ecP256Key(), true},
		{"ES384", func(t *testing.T) jwtauth.Config { return keyConfig(t, &ecP384Key().PublicKey) }, jwt.SigningMethodES384, ecP384Key(), true},
		{"ES512", func(t *testing.T) jwtauth.Config { return keyConfig(t, &ecP521Key().PublicKey) }, jwt.SigningMethodES512, ecP521Key(), true},
		{"EdDSA", func(t *testing.T) jwtauth.Config { return keyConfig(t, edKey().Public()) }, jwt.SigningMethodEdDSA, edKey(), true},

		{"HS256 wrong secret", func(*testing.T) jwtauth.Config { return secretConfig() }, jwt.SigningMethodHS256, []byte(attackerSecret), false},
		{"RS256 wrong key", rsaConfig, jwt.SigningMethodRS256, rsaAttackerKey(), false},
		{"PS256 wrong key", rsaConfig, jwt.SigningMethodPS256, rsaAttackerKey(), false},
		{"ES256 wrong key", func(t *testing.T) jwtauth.Config { return keyConfig(t, &ecP256Key().PublicKey) }, jwt.SigningMethodES256, ecP256Attacker(), false},
		{"EdDSA wrong key", func(t *testing.T) jwtauth.Config { return keyConfig(t, edKey().Public()) }, jwt.SigningMethodEdDSA, edAttackerKey(), false},

		{"HS512 outside configured HS256", func(*testing.T) jwtauth.Config {
			c := secretConfig()
			c.Algorithms = []string{"HS256"}
			return c
		}, jwt.SigningMethodHS512, []byte(testSecret), false},
		{"PS256 outside configured RS256", func(t *testing.T) jwtauth.Config {
			c := rsaConfig(t)
			c.Algorithms = []string{"RS256"}
			return c
		}, jwt.SigningMethodPS256, rsaKey(), false},
		{"ES384 token for a P-256 key", func(t *testing.T) jwtauth.Config { return keyConfig(t, &ecP256Key().PublicKey) }, jwt.SigningMethodES384, ecP384Key(), false},
		{"RS256 token for an HMAC secret", func(*testing.T) jwtauth.Config { return secretConfig() }, jwt.SigningMethodRS256, rsaKey(), false},
		{"HS256 token for an Ed25519 key", func(t *testing.T) jwtauth.Config { return keyConfig(t, edKey().Public()) }, jwt.SigningMethodHS256, []byte(testSecret), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := newVerifier(t, tt.cfg(t))
			id, ok := v.Identify("Bearer " + sign(t, tt.method, tt.key, claims("premium"), ""))
			require.Equal(t, tt.want, ok)
			if tt.want {
				assert.Equal(t, jwtauth.Identity{User: "alice", Tier: "premium"}, id)
			} else {
				assert.Zero(t, id)
			}
		})
	}
}

func rsaConfig(t *testing.T) jwtauth.Config { return keyConfig(t, &rsaKey().PublicKey) }

// TestIdentifyForgedTier: a token claiming a higher tier that is not signed by the
// configured key earns nothing — the caller falls back to anonymous by IP.
func TestIdentifyForgedTier(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, rsaConfig(t))

	id, ok := v.Identify("Bearer " + sign(t, jwt.SigningMethodRS256, rsaKey(), claims("standard"), ""))
	require.True(t, ok)
	assert.Equal(t, "standard", id.Tier)

	forged := claims("premium")
	forged["sub"] = "mallory"
	for _, tok := range []string{
		sign(t, jwt.SigningMethodRS256, rsaAttackerKey(), forged, ""),
		sign(t, jwt.SigningMethodHS256, []byte(testSecret), forged, ""),
		unsignedToken(`{"sub":"mallory","tier":"premium"}`),
	} {
		id, ok := v.Identify("Bearer " + tok)
		assert.False(t, ok)
		assert.Zero(t, id)
	}
}

func TestIdentifyAlgNone(t *testing.T) {
	t.Parallel()
	unsafeNone := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims("premium"), "")
	handmade := unsignedToken(`{"sub":"alice","tier":"premium"}`)
	// A none token carrying a signature taken from a genuine HS256 token.
	genuine := sign(t, jwt.SigningMethodHS256, []byte(testSecret), claims("premium"), "")
	withSig := strings.TrimSuffix(handmade, ".") + "." + genuine[strings.LastIndex(genuine, ".")+1:]

	configs := map[string]func(*testing.T) jwtauth.Config{
		"secret":  func(*testing.T) jwtauth.Config { return secretConfig() },
		"RSA key": rsaConfig,
		"Ed25519": func(t *testing.T) jwtauth.Config { return keyConfig(t, edKey().Public()) },
	}
	for name, cfg := range configs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v := newVerifier(t, cfg(t))
			for _, tok := range []string{unsafeNone, handmade, withSig} {
				_, ok := v.Identify("Bearer " + tok)
				assert.False(t, ok, tok)
			}
		})
	}
}

// TestIdentifyKeyConfusion: an HS256 token whose HMAC secret is the RSA public key
// (PEM or DER bytes) must not verify against a verifier configured with that key.
func TestIdentifyKeyConfusion(t *testing.T) {
	t.Parallel()
	cfg := rsaConfig(t)
	pemBytes, err := os.ReadFile(cfg.PublicKeyFile)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&rsaKey().PublicKey)
	require.NoError(t, err)
	block, _ := pem.Decode(pemBytes)
	require.NotNil(t, block)

	v := newVerifier(t, cfg)
	for name, secret := range map[string][]byte{
		"PEM":                pemBytes,
		"PEM without \\n":    []byte(strings.TrimSpace(string(pemBytes))),
		"DER":                der,
		"PEM block contents": block.Bytes,
	} {
		for _, m := range []jwt.SigningMethod{jwt.SigningMethodHS256, jwt.SigningMethodHS384, jwt.SigningMethodHS512} {
			_, ok := v.Identify("Bearer " + sign(t, m, secret, claims("premium"), ""))
			assert.False(t, ok, "%s with %s", m.Alg(), name)
		}
	}
}

func TestIdentifyTimeClaims(t *testing.T) {
	t.Parallel()
	at := func(d time.Duration) int64 { return now.Add(d).Unix() }
	tests := []struct {
		name   string
		leeway time.Duration
		claims jwt.MapClaims
		want   bool
	}{
		{"no exp never expires", 0, jwt.MapClaims{"sub": "alice"}, true},
		{"exp ahead", 0, jwt.MapClaims{"sub": "alice", "exp": at(time.Minute)}, true},
		{"exp 10s ago, within default 30s leeway", 0, jwt.MapClaims{"sub": "alice", "exp": at(-10 * time.Second)}, true},
		{"exp 29s ago, within default leeway", 0, jwt.MapClaims{"sub": "alice", "exp": at(-29 * time.Second)}, true},
		{"exp 30s ago, end of default leeway", 0, jwt.MapClaims{"sub": "alice", "exp": at(-30 * time.Second)}, false},
		{"exp 31s ago, beyond default leeway", 0, jwt.MapClaims{"sub": "alice", "exp": at(-31 * time.Second)}, false},
		{"exp 5s ago, within 10s leeway", 10 * time.Second, jwt.MapClaims{"sub": "alice", "exp": at(-5 * time.Second)}, true},
		{"exp 11s ago, beyond 10s leeway", 10 * time.Second, jwt.MapClaims{"sub": "alice", "exp": at(-11 * time.Second)}, false},
		{"exp 1s ago, no leeway", -1, jwt.MapClaims{"sub": "alice", "exp": at(-time.Second)}, false},
		{"exp now, no leeway", -1, jwt.MapClaims{"sub": "alice", "exp": at(0)}, false},
		{"exp 1s ahead, no leeway", -1, jwt.MapClaims{"sub": "alice", "exp": at(time.Second)}, true},
		{"exp 1s ago, -1s also means no leeway", -time.Second, jwt.MapClaims{"sub": "alice", "exp": at(-time.Second)}, false},
		{"nbf passed", 0, jwt.MapClaims{"sub": "alice", "nbf": at(-time.Minute)}, true},
		{"nbf 10s ahead, within default leeway", 0, jwt.MapClaims{"sub": "alice", "nbf": at(10 * time.Second)}, true},
		{"nbf 31s ahead, beyond default leeway", 0, jwt.MapClaims{"sub": "alice", "nbf": at(31 * time.Second)}, false},
		{"nbf 1s ahead, no leeway", -1, jwt.MapClaims{"sub": "alice", "nbf": at(time.Second)}, false},
		{"nbf now, no leeway", -1, jwt.MapClaims{"sub": "alice", "nbf": at(0)}, true},
		{"iat in the future is not checked", -1, jwt.MapClaims{"sub": "alice", "iat": at(time.Hour)}, true},
		{"exp not a number", 0, jwt.MapClaims{"sub": "alice", "exp": "tomorrow"}, false},
		{"nbf not a number", 0, jwt.MapClaims{"sub": "alice", "nbf": "later"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := secretConfig()
			cfg.Leeway = tt.leeway
			v := newVerifier(t, cfg)
			_, ok := v.Identify("Bearer " + sign(t, jwt.SigningMethodHS256, []byte(testSecret), tt.claims, ""))
			assert.Equal(t, tt.want, ok)
		})
	}
}

func TestIdentifyIssuerAudience(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		issuer, audience string
		claims           jwt.MapClaims
		want             bool
	}{
		{"nothing configured, anything goes", "", "", jwt.MapClaims{"sub": "alice", "iss": "whoever", "aud": "whatever"}, true},
		{"issuer matches", "https://idp.example", "", jwt.MapClaims{"sub": "alice", "iss": "https://idp.example"}, true},
		{"wrong issuer", "https://idp.example", "", jwt.MapClaims{"sub": "alice", "iss": "https://evil.example"}, false},
		{"issuer missing", "https://idp.example", "", jwt.MapClaims{"sub": "alice"}, false},
		{"audience matches", "", "api", jwt.MapClaims{"sub": "alice", "aud": "api"}, true},
		{"audience in a list", "", "api", jwt.MapClaims{"sub": "alice", "aud": []string{"web", "api"}}, true},
		{"wrong audience", "", "api", jwt.MapClaims{"sub": "alice", "aud": "web"}, false},
		{"audience missing", "", "api", jwt.MapClaims{"sub": "alice"}, false},
		{"both match", "https://idp.example", "api", jwt.MapClaims{"sub": "alice", "iss": "https://idp.example", "aud": "api"}, true},
		{"right issuer, wrong audience", "https://idp.example", "api", jwt.MapClaims{"sub": "alice", "iss": "https://idp.example", "aud": "web"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := secretConfig()
			cfg.Issuer, cfg.Audience = tt.issuer, tt.audience
			v := newVerifier(t, cfg)
			_, ok := v.Identify("Bearer " + sign(t, jwt.SigningMethodHS256, []byte(testSecret), tt.claims, ""))
			assert.Equal(t, tt.want, ok)
		})
	}
}

func TestIdentifyClaims(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		userClaim, tierClaim string
		claims               jwt.MapClaims
		want                 jwtauth.Identity
		wantOK               bool
	}{
		{"sub and tier", "", "", jwt.MapClaims{"sub": "alice", "tier": "premium"}, jwtauth.Identity{User: "alice", Tier: "premium"}, true},
		{"tier absent", "", "", jwt.MapClaims{"sub": "alice"}, jwtauth.Identity{User: "alice"}, true},
		{"tier not a string", "", "", jwt.MapClaims{"sub": "alice", "tier": 3}, jwtauth.Identity{User: "alice"}, true},
		{"tier null", "", "", jwt.MapClaims{"sub": "alice", "tier": nil}, jwtauth.Identity{User: "alice"}, true},
		{"user missing", "", "", jwt.MapClaims{"tier": "premium"}, jwtauth.Identity{}, false},
		{"user empty", "", "", jwt.MapClaims{"sub": "", "tier": "premium"}, jwtauth.Identity{}, false},
		{"user a number", "", "", jwt.MapClaims{"sub": 42, "tier": "premium"}, jwtauth.Identity{}, false},
		{"user a list", "", "", jwt.MapClaims{"sub": []string{"alice"}}, jwtauth.Identity{}, false},
		{"user an object", "", "", jwt.MapClaims{"sub": map[string]string{"id": "alice"}}, jwtauth.Identity{}, false},
		{"user null", "", "", jwt.MapClaims{"sub": nil}, jwtauth.Identity{}, false},
		{"custom claims", "uid", "plan", jwt.MapClaims{"sub": "ignored", "uid": "bob", "plan": "standard", "tier": "premium"}, jwtauth.Identity{User: "bob", Tier: "standard"}, true},
		{"custom user claim missing, sub present", "uid", "plan", jwt.MapClaims{"sub": "alice", "plan": "standard"}, jwtauth.Identity{}, false},
		{"custom tier claim missing, tier present", "uid", "plan", jwt.MapClaims{"uid": "bob", "tier": "premium"}, jwtauth.Identity{User: "bob"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := secretConfig()
			cfg.UserClaim, cfg.TierClaim = tt.userClaim, tt.tierClaim
			v := newVerifier(t, cfg)
			id, ok := v.Identify("Bearer " + sign(t, jwt.SigningMethodHS256, []byte(testSecret), tt.claims, ""))
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, id)
		})
	}
}

func TestIdentifyAuthorizationHeader(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, secretConfig())
	tok := sign(t, jwt.SigningMethodHS256, []byte(testSecret), claims("premium"), "")
	random := make([]byte, 512)
	_, err := rand.Read(random)
	require.NoError(t, err)

	tests := []struct {
		name   string
		header string
		want   bool
	}{
		{"canonical", "Bearer " + tok, true},
		{"lower-case scheme", "bearer " + tok, true},
		{"upper-case scheme", "BEARER " + tok, true},
		{"several spaces", "Bearer    " + tok, true},
		{"tab", "Bearer\t" + tok, true},
		{"trailing spaces", "Bearer " + tok + "  ", true},
		{"token of about 14 KiB", "Bearer " + padded(t, 10<<10), true},

		{"token over 16 KiB", "Bearer " + padded(t, 17<<10), false},

		{"empty", "", false},
		{"token without scheme", tok, false},
		{"scheme glued to token", "Bearer" + tok, false},
		{"Basic", "Basic YWxpY2U6c2VjcmV0", false},
		{"Basic with a JWT", "Basic " + tok, false},
		{"Bearer alone", "Bearer", false},
		{"Bearer and a space", "Bearer ", false},
		{"Bearer and spaces", "Bearer     ", false},
		{"two segments", "Bearer a.b", false},
		{"three garbage segments", "Bearer a.b.c", false},
		{"four segments", "Bearer " + tok + ".x", false},
		{"empty segments", "Bearer ..", false},
		{"empty JSON objects", "Bearer e30.e30.", false},
		{"null header and claims", "Bearer bnVsbA.bnVsbA.", false},
		{"array claims", "Bearer eyJhbGciOiJIUzI1NiJ9.W10.", false},
		{"token then junk", "Bearer " + tok + " junk", false},
		{"two tokens", "Bearer " + tok + ", Bearer " + tok, false},
		{"signature stripped", "Bearer " + tok[:strings.LastIndex(tok, ".")+1], false},
		{"random bytes", string(random), false},
		{"Bearer and random bytes", "Bearer " + string(random), false},
		{"huge header", "Bearer " + strings.Repeat("A", 1<<20), false},
		{"huge dotted header", "Bearer " + strings.Repeat("A.", 1<<19), false},
		{"huge valid-looking token", "Bearer " + tok + strings.Repeat("A", 1<<16), false},
		{"non-UTF-8", "Bearer \xff\xfe.\xfd.\xfc", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, ok := v.Identify(tt.header)
			assert.Equal(t, tt.want, ok)
			if !tt.want {
				assert.Zero(t, id)
			}
		})
	}
}

// padded returns a valid HS256 token carrying an extra claim of n bytes.
func padded(t *testing.T, n int) string {
	c := claims("premium")
	c["pad"] = strings.Repeat("x", n)
	return sign(t, jwt.SigningMethodHS256, []byte(testSecret), c, "")
}

func TestIdentifyDisabledAndNil(t *testing.T) {
	t.Parallel()
	tok := "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(testSecret), claims("premium"), "")

	v, err := jwtauth.New(jwtauth.Config{Enabled: false, Secret: testSecret})
	require.NoError(t, err)
	_, ok := v.Identify(tok)
	assert.False(t, ok, "a disabled Verifier identifies nobody")
	v.Close()

	var nilV *jwtauth.Verifier
	_, ok = nilV.Identify(tok)
	assert.False(t, ok, "a nil Verifier identifies nobody")
	nilV.Close()
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	cfg := jwtauth.Config{Enabled: true, Secret: testSecret, Algorithms: []string{"none"}}
	v, err := jwtauth.New(cfg)
	require.Nil(t, v)
	require.EqualError(t, err, `algorithms[0]: unknown or unsupported algorithm, got "none"`)
	assert.Equal(t, cfg.Validate().Error(), err.Error())
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	tok := "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{"sub": "alice", "exp": now.Unix()}, "")

	// Without WithClock the real time is used: the token expired long ago.
	v, err := jwtauth.New(secretConfig(), nil, jwtauth.WithClock(nil), jwtauth.WithHTTPClient(nil))
	require.NoError(t, err)
	_, ok := v.Identify(tok)
	assert.False(t, ok)

	v = newVerifier(t, secretConfig())
	_, ok = v.Identify(tok)
	assert.True(t, ok, "within the default leeway at the injected instant")
}

func TestIdentifyConcurrent(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, secretConfig())
	good := "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(testSecret), claims("premium"), "")
	bad := "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(attackerSecret), claims("premium"), "")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if id, ok := v.Identify(good); !ok || id.User != "alice" {
					t.Error("valid token rejected")
					return
				}
				if _, ok := v.Identify(bad); ok {
					t.Error("forged token accepted")
					return
				}
			}
		})
	}
	wg.Wait()
}

// FuzzIdentify feeds arbitrary Authorization values to an HMAC verifier: it never panics,
// and whatever it identifies is a token whose signature the test checks on its own, with
// crypto/hmac and the key, so that no parser quirk (alg confusion, "none", padding, a
// second header) can let a token through that was not signed with the key.
func FuzzIdentify(f *testing.F) {
	valid := sign(f, jwt.SigningMethodHS256, []byte(testSecret), claims("premium"), "")
	f.Add("Bearer " + valid)
	f.Add("bearer \t" + sign(f, jwt.SigningMethodHS512, []byte(testSecret), claims(""), "k1") + " ")
	f.Add("Bearer " + sign(f, jwt.SigningMethodHS256, []byte(attackerSecret), claims("premium"), ""))
	f.Add("Bearer " + sign(f, jwt.SigningMethodHS384, []byte(testSecret), jwt.MapClaims{"sub": "alice", "exp": now.Add(-time.Hour).Unix()}, ""))
	f.Add("Bearer " + valid[:len(valid)-2])
	f.Add("Bearer " + valid + "=")
	f.Add("Bearer " + strings.Replace(valid, ".", "..", 1))
	f.Add("Bearer " + unsignedToken(`{"sub":"alice"}`))
	for _, s := range []string{"", "Bearer", "Bearer ", "Bearer a.b", "Bearer a.b.c", "Bearer e30.e30.", "Bearer bnVsbA.bnVsbA.", "Basic x"} {
		f.Add(s)
	}
	v := newVerifier(f, secretConfig())
	f.Fuzz(func(t *testing.T, header string) {
		id, ok := v.Identify(header)
		if !ok {
			return
		}
		if id.User == "" {
			t.Fatalf("ok with an empty user for %q", header)
		}
		if err := signedWithTestSecret(header); err != nil {
			t.Fatalf("identified %+v from %q, a token not signed with the key: %v", id, header, err)
		}
	})
}

// signedWithTestSecret checks, independently of the verifier, that the Bearer token of the
// Authorization value header carries an HS256/384/512 signature made with testSecret.
func signedWithTestSecret(header string) error {
	const scheme = "bearer"
	if len(header) <= len(scheme) || strings.ToLower(header[:len(scheme)]) != scheme {
		return errors.New("no Bearer scheme")
	}
	parts := strings.Split(strings.Trim(header[len(scheme):], " \t"), ".")
	if len(parts) != 3 {
		return fmt.Errorf("%d parts", len(parts))
	}
	rawHeader, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(rawHeader, &h); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	hashes := map[string]func() hash.Hash{"HS256": sha256.New, "HS384": sha512.New384, "HS512": sha512.New}
	newHash, known := hashes[h.Alg]
	if !known {
		return fmt.Errorf("alg %q", h.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	mac := hmac.New(newHash, []byte(testSecret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return errors.New("signature does not match")
	}
	return nil
}
