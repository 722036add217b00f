package jwtauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// minRSABits is the smallest RSA modulus accepted for verification keys.
const minRSABits = 2048

// readPublicKey loads the first public key of the PEM file at path: a "PUBLIC KEY"
// (PKIX), "RSA PUBLIC KEY" (PKCS #1) or the key of a "CERTIFICATE" block. It returns
// the key and its kind, or an error whose text completes "public_key_file: ".
func readPublicKey(path string) (crypto.PublicKey, keyKind, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, kindUnknown, fmt.Errorf("cannot read %q: %w", path, err)
	}
	sawPrivate := false
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		var key any
		switch block.Type {
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			key, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
				key = cert.PublicKey
			}
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "OPENSSH PRIVATE KEY":
			sawPrivate = true
			continue
		default:
			continue
		}
		if err != nil {
			return nil, kindUnknown, fmt.Errorf("cannot parse the %s block in %q: %w", block.Type, path, err)
		}
		return classify(key, path)
	}
	if sawPrivate {
		return nil, kindUnknown, fmt.Errorf("no RSA, ECDSA or Ed25519 public key in %q (it holds a private key; give the public key instead)", path)
	}
	return nil, kindUnknown, fmt.Errorf("no RSA, ECDSA or Ed25519 public key in %q", path)
}

// classify returns the kind of a parsed public key, or an error for key types and
// sizes that cannot verify tokens safely.
func classify(key any, path string) (crypto.PublicKey, keyKind, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < minRSABits {
			return nil, kindUnknown, fmt.Errorf("RSA key in %q has %d bits, want at least %d", path, bits, minRSABits)
		}
		return k, kindRSA, nil
	case *ecdsa.PublicKey:
		switch name := k.Curve.Params().Name; name {
		case "P-256":
			return k, kindES256, nil
		case "P-384":
			return k, kindES384, nil
		case "P-521":
			return k, kindES512, nil
		default:
			return nil, kindUnknown, fmt.Errorf("ECDSA key in %q uses curve %s; want P-256, P-384 or P-521", path, name)
		}
	case ed25519.PublicKey:
		return k, kindEd25519, nil
	}
	return nil, kindUnknown, fmt.Errorf("no RSA, ECDSA or Ed25519 public key in %q (found %T)", path, key)
}
