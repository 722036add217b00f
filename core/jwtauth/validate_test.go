package jwtauth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/jwtauth"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	rsaFile := writePEM(t, &rsaKey().PublicKey)
	p256File := writePEM(t, &ecP256Key().PublicKey)
	edFile := writePEM(t, edKey().Public())
	missing := filepath.Join(t.TempDir(), "missing.pem")
	notPEM := writeFile(t, []byte("hello, not a key\n"))
	privDER, err := x509.MarshalPKCS8PrivateKey(ecP256Key())
	require.NoError(t, err)
	privateFile := writeFile(t, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}))
	p224File := writePEM(t, &must(ecdsa.GenerateKey(elliptic.P224(), rand.Reader)).PublicKey)
	weakRSAFile := writePEM(t, &must(rsa.GenerateKey(rand.Reader, 1024)).PublicKey)
	badBlock := writeFile(t, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("junk")}))

	tests := []struct {
		name string
		cfg  jwtauth.Config
		want []string // the lines of the error, in order; none for a valid config
	}{
		{"disabled is never checked", jwtauth.Config{Secret: "x", JWKSURL: "ftp://x", Algorithms: []string{"none"}, Leeway: -time.Hour}, nil},
		{"secret", jwtauth.Config{Enabled: true, Secret: testSecret}, nil},
		{"secret with HS algorithms", jwtauth.Config{Enabled: true, Secret: testSecret, Algorithms: []string{"HS256", "HS512"}}, nil},
		{"RSA key with RS and PS", jwtauth.Config{Enabled: true, PublicKeyFile: rsaFile, Algorithms: []string{"RS256", "PS512"}}, nil},
		{"P-256 key", jwtauth.Config{Enabled: true, PublicKeyFile: p256File, Algorithms: []string{"ES256"}}, nil},
		{"Ed25519 key", jwtauth.Config{Enabled: true, PublicKeyFile: edFile, Algorithms: []string{"EdDSA"}}, nil},
		{"JWKS", jwtauth.Config{Enabled: true, JWKSURL: "https://idp.example/.well-known/jwks.json", Algorithms: []string{"RS256", "ES384", "EdDSA"}}, nil},
		{"leeway -1 means none", jwtauth.Config{Enabled: true, Secret: testSecret, Leeway: -1}, nil},
		{"leeway -1s means none", jwtauth.Config{Enabled: true, Secret: testSecret, Leeway: -time.Second}, nil},
		{"leeway 0 means default", jwtauth.Config{Enabled: true, Secret: testSecret, Leeway: 0}, nil},

		{"no key source", jwtauth.Config{Enabled: true},
			[]string{"secret: exactly one of secret, public_key_file and jwks_url must be set"}},
		{"two key sources", jwtauth.Config{Enabled: true, Secret: testSecret, JWKSURL: "https://idp.example/jwks"},
			[]string{"secret: exactly one of secret, public_key_file and jwks_url must be set"}},
		{"short secret", jwtauth.Config{Enabled: true, Secret: "hunter2"},
			[]string{"secret: must be at least 32 bytes long, got 7 bytes"}},
		{"none", jwtauth.Config{Enabled: true, Secret: testSecret, Algorithms: []string{"HS256", "none"}},
			[]string{`algorithms[1]: unknown or unsupported algorithm, got "none"`}},
		{"unknown algorithms", jwtauth.Config{Enabled: true, Secret: testSecret, Algorithms: []string{"hs256", "", "HS1024"}},
			[]string{
				`algorithms[0]: unknown or unsupported algorithm, got "hs256"`,
				`algorithms[1]: unknown or unsupported algorithm, got ""`,
				`algorithms[2]: unknown or unsupported algorithm, got "HS1024"`,
			}},
		{"RS256 with a secret", jwtauth.Config{Enabled: true, Secret: testSecret, Algorithms: []string{"RS256"}},
			[]string{`algorithms[0]: "RS256" does not fit an HMAC secret`}},
		{"HS256 with an RSA key", jwtauth.Config{Enabled: true, PublicKeyFile: rsaFile, Algorithms: []string{"RS256", "HS256"}},
			[]string{`algorithms[1]: "HS256" does not fit an RSA public key`}},
		{"ES256 with an RSA key", jwtauth.Config{Enabled: true, PublicKeyFile: rsaFile, Algorithms: []string{"ES256"}},
			[]string{`algorithms[0]: "ES256" does not fit an RSA public key`}},
		{"ES384 with a P-256 key", jwtauth.Config{Enabled: true, PublicKeyFile: p256File, Algorithms: []string{"ES384"}},
			[]string{`algorithms[0]: "ES384" does not fit an ECDSA P-256 public key`}},
		{"ES256 with an Ed25519 key", jwtauth.Config{Enabled: true, PublicKeyFile: edFile, Algorithms: []string{"ES256"}},
			[]string{`algorithms[0]: "ES256" does not fit an Ed25519 public key`}},
		{"HS256 with JWKS", jwtauth.Config{Enabled: true, JWKSURL: "https://idp.example/jwks", Algorithms: []string{"HS256"}},
			[]string{`algorithms[0]: "HS256" does not fit a JWKS key set (asymmetric keys only)`}},
		{"missing key file", jwtauth.Config{Enabled: true, PublicKeyFile: missing},
			[]string{`public_key_file: cannot read "` + missing + `": no such file or directory`}},
		{"not PEM", jwtauth.Config{Enabled: true, PublicKeyFile: notPEM},
			[]string{`public_key_file: no RSA, ECDSA or Ed25519 public key in "` + notPEM + `"`}},
		{"private key", jwtauth.Config{Enabled: true, PublicKeyFile: privateFile},
			[]string{`public_key_file: no RSA, ECDSA or Ed25519 public key in "` + privateFile + `" (it holds a private key; give the public key instead)`}},
		{"unsupported curve", jwtauth.Config{Enabled: true, PublicKeyFile: p224File},
			[]string{`public_key_file: ECDSA key in "` + p224File + `" uses curve P-224; want P-256, P-384 or P-521`}},
		{"weak RSA key", jwtauth.Config{Enabled: true, PublicKeyFile: weakRSAFile},
			[]string{`public_key_file: RSA key in "` + weakRSAFile + `" has 1024 bits, want at least 2048`}},
		{"broken PEM block", jwtauth.Config{Enabled: true, PublicKeyFile: badBlock},
			[]string{`public_key_file: cannot parse the PUBLIC KEY block in "` + badBlock + `": `}},
		{"ftp JWKS URL", jwtauth.Config{Enabled: true, JWKSURL: "ftp://x"},
			[]string{`jwks_url: must be an http or https URL, got "ftp://x"`}},
		{"relative JWKS URL", jwtauth.Config{Enabled: true, JWKSURL: "/jwks.json"},
			[]string{`jwks_url: must be an http or https URL, got "/jwks.json"`}},
		{"JWKS URL without host", jwtauth.Config{Enabled: true, JWKSURL: "https://"},
			[]string{`jwks_url: must be an http or https URL, got "https://"`}},
		{"negative leeway", jwtauth.Config{Enabled: true, Secret: testSecret, Leeway: -5 * time.Second},
			[]string{`leeway: must be ≥ 0 (or -1 for none), got "-5s"`}},

		{"every problem at once", jwtauth.Config{
			Enabled:       true,
			Secret:        "short",
			PublicKeyFile: missing,
			JWKSURL:       "ftp://x",
			Algorithms:    []string{"RS256", "none", "HS999"},
			Leeway:        -5 * time.Second,
		}, []string{
			"secret: exactly one of secret, public_key_file and jwks_url must be set",
			"secret: must be at least 32 bytes long, got 5 bytes",
			`public_key_file: cannot read "` + missing + `": no such file or directory`,
			`jwks_url: must be an http or https URL, got "ftp://x"`,
			`algorithms[1]: unknown or unsupported algorithm, got "none"`,
			`algorithms[2]: unknown or unsupported algorithm, got "HS999"`,
			`leeway: must be ≥ 0 (or -1 for none), got "-5s"`,
		}},
		{"every problem with a known key", jwtauth.Config{
			Enabled:    true,
			Secret:     testSecret,
			Algorithms: []string{"HS256", "none", "RS256", "EdDSA"},
			Leeway:     -2 * time.Minute,
		}, []string{
			`algorithms[1]: unknown or unsupported algorithm, got "none"`,
			`algorithms[2]: "RS256" does not fit an HMAC secret`,
			`algorithms[3]: "EdDSA" does not fit an HMAC secret`,
			`leeway: must be ≥ 0 (or -1 for none), got "-2m0s"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			lines := strings.Split(err.Error(), "\n")
			require.Len(t, lines, len(tt.want), err.Error())
			for i, want := range tt.want {
				if strings.HasSuffix(want, ": ") { // the rest is the parser's wording
					assert.True(t, strings.HasPrefix(lines[i], want), "line %d: %q", i, lines[i])
				} else {
					assert.Equal(t, want, lines[i], "line %d", i)
				}
			}
		})
	}
}

func TestValidateNeverQuotesTheSecret(t *testing.T) {
	t.Parallel()
	for _, cfg := range []jwtauth.Config{
		{Enabled: true, Secret: "s3cr3t-value"},
		{Enabled: true, Secret: "s3cr3t-value", JWKSURL: "https://idp.example/jwks"},
		{Enabled: true, Secret: "s3cr3t-value-s3cr3t-value-s3cr3t", Algorithms: []string{"RS256"}},
	} {
		err := cfg.Validate()
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "s3cr3t")
	}
}

// TestPublicKeyFileFormats: PKIX, PKCS #1 and certificate PEMs are all accepted, and
// surrounding text or other blocks do not matter.
func TestPublicKeyFileFormats(t *testing.T) {
	t.Parallel()
	pub := &rsaKey().PublicKey
	pkixDER := must(x509.MarshalPKIXPublicKey(pub))
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "idp.example"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
	}
	cert := must(x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, rsaKey()))
	files := map[string][]byte{
		"PKIX":        pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkixDER}),
		"PKCS1":       pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pub)}),
		"certificate": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert}),
		"with text and other blocks": append(append([]byte("issued by ops\n"),
			pem.EncodeToMemory(&pem.Block{Type: "DH PARAMETERS", Bytes: []byte{1, 2, 3}})...),
			pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkixDER})...),
	}
	tok := "Bearer " + sign(t, jwt.SigningMethodRS256, rsaKey(), claims("premium"), "")
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v := newVerifier(t, jwtauth.Config{Enabled: true, PublicKeyFile: writeFile(t, data)})
			id, ok := v.Identify(tok)
			require.True(t, ok)
			assert.Equal(t, "alice", id.User)
		})
	}
}
