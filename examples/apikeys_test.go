package examples_test

import (
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/examples/internal/proc"
)

// The raw keys of the test: the apps must never write them to their logs.
const (
	premiumKey = "sk_example_premium_7f3a"
	plainKey   = "sk_example_plain_91c2"
	laterKey   = "sk_example_later_44d0"
)

// keysConfig turns API keys on, sets an admin token and gives the premium tier 10 a
// minute against the default rule's 3.
const keysConfig = `
[api_key]
enabled = true

[admin]
token = "s3cret"

[default]
limit = 3

[tiers.premium]
limit  = 10
window = "1m"
`

func TestAPIKeysFromTheKeysFile(t *testing.T) {
	forEachApp(t, func(t *testing.T, bin string) {
		keys := writeFile(t, "keys.txt", "# customers\n\n"+premiumKey+" cust-1 premium\n\t"+plainKey+"\tcust-2   standard\n")
		srv := start(t, bin, nil, "-config", writeConfig(t, keysConfig), "-api-keys", keys)
		withKey := func(key string) http.Header { return http.Header{"X-API-Key": {key}} }

		r := send(t, http.MethodGet, srv.URL+"/api/v1/test", withKey(premiumKey))
		require.Equal(t, 200, r.status)
		assert.Equal(t, "10", r.header.Get("X-RateLimit-Limit"), "a premium key gets the premium limits")
		assert.Equal(t, "9", r.header.Get("X-RateLimit-Remaining"))
		r = send(t, http.MethodGet, srv.URL+"/api/v1/test", withKey(plainKey))
		assert.Equal(t, "3", r.header.Get("X-RateLimit-Limit"), "a tier no rule configures gets the default limits")
		assert.Equal(t, "2", r.header.Get("X-RateLimit-Remaining"))

		// Unknown keys are limited by IP: they share the address's anonymous counter.
		for i, key := range []string{laterKey, "sk_random_1", ""} {
			r = send(t, http.MethodGet, srv.URL+"/api/v1/test", withKey(key))
			require.Equal(t, 200, r.status)
			assert.Equal(t, "3", r.header.Get("X-RateLimit-Limit"))
			assert.Equal(t, fmt.Sprint(2-i), r.header.Get("X-RateLimit-Remaining"), "request %d", i)
		}
		r = send(t, http.MethodGet, srv.URL+"/api/v1/test", withKey("sk_random_2"))
		assert.Equal(t, 429, r.status)
		assert.Contains(t, r.body, `"scope":"ip"`)
		assert.Equal(t, 200, send(t, http.MethodGet, srv.URL+"/api/v1/test", withKey(premiumKey)).status, "the premium key has its own counter")

		// A reload reads the keys file again: the new key is known at once.
		require.NoError(t, os.WriteFile(keys, []byte(premiumKey+" cust-1 premium\n"+laterKey+" cust-3 premium\n"), 0o600))
		bearer := http.Header{"Authorization": {"Bearer s3cret"}}
		require.Equal(t, 200, send(t, http.MethodPost, srv.URL+"/admin/reload", bearer).status)
		r = send(t, http.MethodGet, srv.URL+"/api/v1/test", withKey(laterKey))
		assert.Equal(t, "10", r.header.Get("X-RateLimit-Limit"))
		assert.Equal(t, "9", r.header.Get("X-RateLimit-Remaining"))

		// A keys file that does not load fails the reload, naming its line; the old keys stay.
		require.NoError(t, os.WriteFile(keys, []byte(premiumKey+" cust-1 premium\n"+laterKey+" cust-3\n"), 0o600))
		bad := send(t, http.MethodPost, srv.URL+"/admin/reload", bearer)
		assert.Equal(t, 422, bad.status)
		assert.JSONEq(t, `{"error":"invalid_configuration","problems":["`+keys+`:2: want \"<key> <user id> <tier>\", got 2 fields"]}`, bad.body)
		assert.Equal(t, "8", send(t, http.MethodGet, srv.URL+"/api/v1/test", withKey(laterKey)).header.Get("X-RateLimit-Remaining"))

		assert.Contains(t, srv.Stderr(), `"client_id":"ip:127.0.0.1"`, "the denial is logged")
		for _, key := range []string{premiumKey, plainKey, laterKey, "sk_random_2"} {
			assert.NotContains(t, srv.Stderr(), key, "raw keys are never logged")
			assert.NotContains(t, get(t, srv.URL+"/metrics").body, key, "nor in metrics")
		}
	})
}

func TestAnInvalidKeysFileExitsWithItsLine(t *testing.T) {
	forEachApp(t, func(t *testing.T, bin string) {
		keys := writeFile(t, "keys.txt", "# customers\n"+premiumKey+" cust-1 premium\n"+premiumKey+" cust-9 free\n")
		code, stderr := proc.Run(bin, []string{"RATELIMIT_API_KEY_ENABLED=true"}, "-api-keys", keys)
		assert.NotEqual(t, 0, code)
		assert.Contains(t, stderr, keys+":3: the key of line 2 again")
		assert.NotContains(t, stderr, premiumKey)

		code, stderr = proc.Run(bin, []string{"RATELIMIT_API_KEY_ENABLED=true"})
		assert.NotEqual(t, 0, code)
		assert.Contains(t, stderr, "api_key.enabled is true, but no -api-keys file was given")
	})
}

// A keys file given while [api_key] is off is not silently ignored: the app says so
// (a new-user review passed -api-keys with the example configuration and got no premium).
func TestKeysFileWithAPIKeysOffIsWarnedAbout(t *testing.T) {
	forEachApp(t, func(t *testing.T, bin string) {
		keys := writeFile(t, "keys.txt", premiumKey+" cust-1 premium\n")
		srv := start(t, bin, nil, "-api-keys", keys)
		r := get(t, srv.URL+"/api/v1/test")
		require.Equal(t, http.StatusOK, r.status)
		assert.Contains(t, srv.Stderr(), `"msg":"api_keys_ignored"`)
	})
}

// A reload refused because the configuration is invalid leaves the old keys too: a key
// added to the keys file with the refused configuration is not accepted (an attack
// review found the new keys live after a 422).
func TestARefusedReloadKeepsTheOldKeys(t *testing.T) {
	forEachApp(t, func(t *testing.T, bin string) {
		keys := writeFile(t, "keys.txt", premiumKey+" cust-1 premium\n")
		config := writeConfig(t, keysConfig)
		srv := start(t, bin, nil, "-config", config, "-api-keys", keys)
		require.NoError(t, os.WriteFile(keys, []byte(premiumKey+" cust-1 premium\n"+laterKey+" cust-3 premium\n"), 0o600))
		require.NoError(t, os.WriteFile(config, []byte(keysConfig+"\nmode = \"block\"\n"), 0o600))
		bad := send(t, http.MethodPost, srv.URL+"/admin/reload", http.Header{"Authorization": {"Bearer s3cret"}})
		require.Equal(t, 422, bad.status, bad.body)
		r := send(t, http.MethodGet, srv.URL+"/api/v1/test", http.Header{"X-API-Key": {laterKey}})
		assert.Equal(t, "3", r.header.Get("X-RateLimit-Limit"), "the key of the refused reload is unknown")
	})
}
