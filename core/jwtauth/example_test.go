package jwtauth_test

import (
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ratewarden/ratewarden/core/jwtauth"
)

func ExampleVerifier_Identify() {
	secret := "an HMAC secret of at least 32 bytes"
	v, err := jwtauth.New(jwtauth.Config{Enabled: true, Secret: secret})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()

	token, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub":  "alice",
		"tier": "premium",
		"exp":  time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte(secret))

	id, ok := v.Identify("Bearer " + token)
	fmt.Println(id.User, id.Tier, ok)

	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub":  "mallory",
		"tier": "premium",
	}).SignedString([]byte("a secret the attacker made up themselves"))
	_, ok = v.Identify("Bearer " + forged)
	fmt.Println(ok) // the request is then identified by IP as anonymous
	// Output:
	// alice premium true
	// false
}

func ExampleConfig_Validate() {
	cfg := jwtauth.Config{
		Enabled:    true,
		Secret:     "an HMAC secret of at least 32 bytes",
		Algorithms: []string{"HS256", "RS256", "none"},
		Leeway:     -5 * time.Second,
	}
	fmt.Println(cfg.Validate())
	// Output:
	// algorithms[1]: "RS256" does not fit an HMAC secret
	// algorithms[2]: unknown or unsupported algorithm, got "none"
	// leeway: must be ≥ 0 (or -1 for none), got "-5s"
}
