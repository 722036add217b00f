package jwtauth_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/jwtauth"
)

// jwk is one key of a test key set: a public (or, for "oct", secret) key and its kid.
type jwk struct {
	kid string
	key any
}

// jwksServer serves a JWK set on loopback and counts the requests it answers.
// set replaces the keys it serves; stall makes it hold requests (jwks_stall_test.go).
type jwksServer struct {
	*httptest.Server
	requests atomic.Int64
	stalled  atomic.Int64 // requests held right now

	mu       sync.Mutex
	body     []byte
	released chan struct{} // while stalling: closed to let held requests go on; else nil
}

func newJWKSServer(t *testing.T, keys ...jwk) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.set(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		released := s.released
		s.mu.Unlock()
		if released != nil {
			s.stalled.Add(1)
			select {
			case <-released:
			case <-r.Context().Done():
			}
			s.stalled.Add(-1)
		}
		s.mu.Lock()
		body := s.body
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(t *testing.T, keys ...jwk) {
	t.Helper()
	set := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{}}
	for _, k := range keys {
		j, err := jwkset.NewJWKFromKey(k.key, jwkset.JWKOptions{
			Marshal:  jwkset.JWKMarshalOptions{Private: true}, // needed to publish the "k" of an oct key
			Metadata: jwkset.JWKMetadataOptions{KID: k.kid},
		})
		require.NoError(t, err)
		set.Keys = append(set.Keys, j.Marshal())
	}
	body, err := json.Marshal(set)
	require.NoError(t, err)
	s.mu.Lock()
	s.body = body
	s.mu.Unlock()
}

func jwksConfig(url string) jwtauth.Config { return jwtauth.Config{Enabled: true, JWKSURL: url} }

func TestJWKS(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t,
		jwk{"rsa-1", &rsaKey().PublicKey},
		jwk{"ec-1", &ecP256Key().PublicKey},
		jwk{"ed-1", edKey().Public()},
		jwk{"oct-1", []byte(testSecret)}, // a symmetric key in the set must never verify anything
	)
	v := newVerifier(t, jwksConfig(srv.URL))

	tests := []struct {
		name   string
		method jwt.SigningMethod
		key    any
		kid    string
		want   bool
	}{
		{"RS256 with kid", jwt.SigningMethodRS256, rsaKey(), "rsa-1", true},
		{"PS384 with kid", jwt.SigningMethodPS384, rsaKey(), "rsa-1", true},
		{"ES256 with kid", jwt.SigningMethodES256, ecP256Key(), "ec-1", true},
		{"EdDSA with kid", jwt.SigningMethodEdDSA, edKey(), "ed-1", true},
		{"RS256 without kid tries every key", jwt.SigningMethodRS256, rsaKey(), "", true},
		{"EdDSA without kid tries every key", jwt.SigningMethodEdDSA, edKey(), "", true},

		{"attacker key with a known kid", jwt.SigningMethodRS256, rsaAttackerKey(), "rsa-1", false},
		{"attacker key without kid", jwt.SigningMethodES256, ecP256Attacker(), "", false},
		{"kid of another key type", jwt.SigningMethodES256, ecP256Key(), "rsa-1", false},
		{"HS256 with the oct key", jwt.SigningMethodHS256, []byte(testSecret), "oct-1", false},
		{"HS256 with the oct key, no kid", jwt.SigningMethodHS256, []byte(testSecret), "", false},
		{"unknown kid", jwt.SigningMethodRS256, rsaKey(), "rsa-9", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, ok := v.Identify("Bearer " + sign(t, tt.method, tt.key, claims("premium"), tt.kid))
			assert.Equal(t, tt.want, ok)
			if tt.want {
				assert.Equal(t, jwtauth.Identity{User: "alice", Tier: "premium"}, id)
			}
		})
	}

	t.Run("alg none", func(t *testing.T) {
		t.Parallel()
		_, ok := v.Identify("Bearer " + unsignedToken(`{"sub":"alice","tier":"premium"}`))
		assert.False(t, ok)
	})
}

// TestJWKSUnknownKID: an unknown kid fetches the set again (so rotated keys are
// picked up), but at most once per rate-limit period, whatever the traffic.
func TestJWKSUnknownKID(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, jwk{"rsa-1", &rsaKey().PublicKey})
	cfg := jwksConfig(srv.URL)
	cfg.JWKSTimeout = 10 * time.Second // wait for the fetch however slow the machine
	v := newVerifier(t, cfg)
	require.EqualValues(t, 1, srv.requests.Load(), "New fetches the set")

	srv.set(t, jwk{"rsa-1", &rsaKey().PublicKey}, jwk{"ec-2", &ecP256Key().PublicKey})
	id, ok := v.Identify("Bearer " + sign(t, jwt.SigningMethodES256, ecP256Key(), claims("standard"), "ec-2"))
	require.True(t, ok, "a rotated-in key is found by refreshing")
	assert.Equal(t, "standard", id.Tier)
	assert.EqualValues(t, 2, srv.requests.Load())

	for range 20 {
		_, ok := v.Identify("Bearer " + sign(t, jwt.SigningMethodRS256, rsaKey(), claims("premium"), "nope"))
		assert.False(t, ok)
	}
	assert.EqualValues(t, 2, srv.requests.Load(), "unknown kids do not hammer the JWKS endpoint")
}

func TestJWKSNew(t *testing.T) {
	t.Parallel()

	t.Run("custom HTTP client", func(t *testing.T) {
		t.Parallel()
		srv := newJWKSServer(t, jwk{"ed-1", edKey().Public()})
		var used atomic.Int64
		client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			used.Add(1)
			return http.DefaultTransport.RoundTrip(r)
		})}
		v := newVerifier(t, jwksConfig(srv.URL), jwtauth.WithHTTPClient(client))
		assert.EqualValues(t, 1, used.Load())
		_, ok := v.Identify("Bearer " + sign(t, jwt.SigningMethodEdDSA, edKey(), claims("premium"), "ed-1"))
		assert.True(t, ok)
		v.Close()
		v.Close() // idempotent
		_, ok = v.Identify("Bearer " + sign(t, jwt.SigningMethodEdDSA, edKey(), claims("premium"), "ed-1"))
		assert.True(t, ok, "fetched keys keep working after Close")
	})

	t.Run("configured algorithms restrict the set", func(t *testing.T) {
		t.Parallel()
		srv := newJWKSServer(t, jwk{"rsa-1", &rsaKey().PublicKey})
		cfg := jwksConfig(srv.URL)
		cfg.Algorithms = []string{"RS256"}
		v := newVerifier(t, cfg)
		_, ok := v.Identify("Bearer " + sign(t, jwt.SigningMethodRS256, rsaKey(), claims("premium"), "rsa-1"))
		assert.True(t, ok)
		_, ok = v.Identify("Bearer " + sign(t, jwt.SigningMethodPS256, rsaKey(), claims("premium"), "rsa-1"))
		assert.False(t, ok)
	})

	failures := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"server error", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) },
			"jwks_url: cannot fetch the key set from "},
		{"not JSON", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) },
			"jwks_url: cannot fetch the key set from "},
		{"empty set", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"keys":[]}`)) },
			"jwks_url: no usable RSA, ECDSA or Ed25519 key in the key set from "},
		{"a body past 1 MiB, not read to its end", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"keys":[],"pad":"`))
			_, _ = w.Write(bytes.Repeat([]byte("x"), 2<<20))
			_, _ = w.Write([]byte(`"}`))
		}, "jwks_url: cannot fetch the key set from "},
		{"only a symmetric key", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"keys":[{"kty":"oct","kid":"oct-1","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}]}`))
		}, "jwks_url: no usable RSA, ECDSA or Ed25519 key in the key set from "},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tt.handler)
			t.Cleanup(srv.Close)
			v, err := jwtauth.New(jwksConfig(srv.URL))
			require.Nil(t, v)
			require.ErrorContains(t, err, tt.want)
			assert.NotContains(t, err.Error(), "\n", "one line per problem")
		})
	}

	t.Run("nothing listening", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		_, err := jwtauth.New(jwksConfig(url))
		require.ErrorContains(t, err, "jwks_url: cannot fetch the key set from ")
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
