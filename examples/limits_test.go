package examples_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
	"github.com/ratewarden/ratewarden/examples/internal/proc"
)

// TestAdminLimits: GET /admin/limits shows a client's windows without consuming, DELETE
// resets them (SPEC section 8), behind the admin token and the lockout of /admin/reload.
func TestAdminLimits(t *testing.T) {
	const cfg = `
[admin]
token = "s3cret"

[default]
limit = 3

[[endpoints]]
name    = "compute"
pattern = "/api/v1/compute"
limit   = 2
window  = "1m"
`
	forEachApp(t, func(t *testing.T, bin string) {
		srv := start(t, bin, nil, "-config", writeConfig(t, cfg))
		bearer := http.Header{"Authorization": {"Bearer s3cret"}}
		limits := srv.URL + "/admin/limits?client=ip:127.0.0.1"
		for range 4 {
			get(t, srv.URL+"/api/v1/test")
		}
		get(t, srv.URL+"/api/v1/compute")

		r := send(t, http.MethodGet, limits, bearer)
		require.Equal(t, 200, r.status, r.body)
		assert.Equal(t, "application/json", r.header.Get("Content-Type"))
		assert.Empty(t, r.header.Get("X-RateLimit-Limit"), "the admin endpoints are not rate limited")
		var st struct {
			Client string
			Rules  []struct {
				Rule    string
				Windows []struct{ Limit, Window, Remaining, Reset int64 }
				Penalty struct{ Cooldown, Violations int64 }
			}
		}
		require.NoError(t, json.Unmarshal([]byte(r.body), &st))
		assert.Equal(t, "ip:127.0.0.1", st.Client)
		require.Len(t, st.Rules, 2)
		assert.Equal(t, "default", st.Rules[0].Rule)
		assert.Equal(t, "compute", st.Rules[1].Rule)
		def, compute := st.Rules[0].Windows[0], st.Rules[1].Windows[0]
		assert.Equal(t, [3]int64{3, 60, 0}, [3]int64{def.Limit, def.Window, def.Remaining})
		assert.Equal(t, [3]int64{2, 60, 1}, [3]int64{compute.Limit, compute.Window, compute.Remaining})
		assert.Zero(t, st.Rules[0].Penalty)

		// The status is the headers' state: the next request is denied with the same reset.
		denied := get(t, srv.URL+"/api/v1/test")
		assert.Equal(t, 429, denied.status, "GET /admin/limits consumed nothing")
		assert.Equal(t, fmt.Sprint(def.Reset), denied.header.Get("X-RateLimit-Reset"))

		one := send(t, http.MethodGet, limits+"&rule=compute", bearer)
		require.Equal(t, 200, one.status)
		assert.JSONEq(t, fmt.Sprintf(`{"client":"ip:127.0.0.1","rules":[{"rule":"compute","windows":[{"limit":2,"window":60,"remaining":1,"reset":%d}],"penalty":{"cooldown":0,"violations":0}}]}`, compute.Reset), one.body)
		fresh := send(t, http.MethodGet, srv.URL+"/admin/limits?client=user:alice", bearer)
		assert.Contains(t, fresh.body, `"remaining":3`, "a client without state has full windows")

		del := send(t, http.MethodDelete, limits+"&rule=default", bearer)
		assert.Equal(t, 204, del.status)
		assert.Empty(t, del.body)
		after := get(t, srv.URL+"/api/v1/test")
		assert.Equal(t, 200, after.status)
		assert.Equal(t, "2", after.header.Get("X-RateLimit-Remaining"), "the default counter was reset")
		assert.Equal(t, "0", get(t, srv.URL+"/api/v1/compute").header.Get("X-RateLimit-Remaining"), "compute was not")
		assert.Equal(t, 204, send(t, http.MethodDelete, limits, bearer).status)
		assert.Equal(t, "1", get(t, srv.URL+"/api/v1/compute").header.Get("X-RateLimit-Remaining"), "every rule was reset")

		assert.Equal(t, 400, send(t, http.MethodGet, srv.URL+"/admin/limits", bearer).status)
		assert.Equal(t, 400, send(t, http.MethodDelete, srv.URL+"/admin/limits?client=127.0.0.1", bearer).status)
		unknown := send(t, http.MethodGet, limits+"&rule=nope", bearer)
		assert.Equal(t, 404, unknown.status)
		assert.JSONEq(t, `{"error":"unknown_rule","message":"ratewarden: unknown rule \"nope\": the rules are default, compute"}`, unknown.body)
	})
}

// TestAdminLimitsNeedTheToken: 401 without or with a wrong token, and failed attempts on
// /admin/limits lock the address out of /admin/reload too.
func TestAdminLimitsNeedTheToken(t *testing.T) {
	forEachApp(t, func(t *testing.T, bin string) {
		noToken := start(t, bin, nil)
		assert.Equal(t, 404, send(t, http.MethodGet, noToken.URL+"/admin/limits?client=ip:127.0.0.1", nil).status, "off without admin.token")

		srv := start(t, bin, nil, "-config", writeConfig(t, "[admin]\ntoken = \"s3cret\"\n[default]\nlimit = 2\n"))
		limits := srv.URL + "/admin/limits?client=ip:127.0.0.1"
		get(t, srv.URL+"/api/v1/test")
		get(t, srv.URL+"/api/v1/test")
		assert.Equal(t, 401, send(t, http.MethodGet, limits, nil).status)
		assert.Equal(t, 401, send(t, http.MethodDelete, limits, nil).status)
		assert.Equal(t, 401, send(t, http.MethodDelete, limits, http.Header{"Authorization": {"Bearer wrong"}}).status)
		assert.Equal(t, 429, get(t, srv.URL+"/api/v1/test").status, "no unauthorized reset happened")
		assert.Equal(t, 401, send(t, http.MethodPost, srv.URL+"/admin/reload", nil).status)
		assert.Equal(t, 401, send(t, http.MethodGet, limits, http.Header{"Authorization": {"Bearer guess"}}).status)

		for _, method := range []string{http.MethodDelete, http.MethodGet} {
			r := send(t, method, limits, http.Header{"Authorization": {"Bearer s3cret"}})
			assert.Equal(t, 429, r.status, "locked out after 5 failures, the right token included")
			assert.NotEmpty(t, r.header.Get("Retry-After"))
		}
		assert.Equal(t, 429, send(t, http.MethodPost, srv.URL+"/admin/reload", http.Header{"Authorization": {"Bearer s3cret"}}).status, "one lockout for every admin endpoint")
		assert.Equal(t, 429, get(t, srv.URL+"/api/v1/test").status, "still not reset")
	})
}

// TestAdminLimitsThroughRedis: with the redis backend, one instance shows and resets the
// counters another instance's requests spent. (An instance that denied the client itself
// remembers the denial in its local cache until it would end: see docs/adapters.md.)
func TestAdminLimitsThroughRedis(t *testing.T) {
	server := redistest.StartServer(t)
	env := []string{"RATELIMIT_BACKEND=redis", "RATELIMIT_REDIS_ADDRS=" + server.Addr(), "RATELIMIT_DEFAULT_LIMIT=3", "RATELIMIT_ADMIN_TOKEN=s3cret"}
	a := start(t, binaries["gin"], env)
	b := start(t, binaries["echo"], env)
	bearer := http.Header{"Authorization": {"Bearer s3cret"}}
	for range 3 {
		require.Equal(t, 200, get(t, a.URL+"/api/v1/test").status)
	}
	st := send(t, http.MethodGet, b.URL+"/admin/limits?client=ip:127.0.0.1&rule=default", bearer)
	require.Equal(t, 200, st.status, st.body)
	assert.Contains(t, st.body, `"limit":3,"window":60,"remaining":0`)
	assert.Equal(t, 429, get(t, b.URL+"/api/v1/test").status)

	assert.Equal(t, 204, send(t, http.MethodDelete, b.URL+"/admin/limits?client=ip:127.0.0.1", bearer).status)
	for _, srv := range []*proc.Server{a, b} {
		r := get(t, srv.URL+"/api/v1/test")
		assert.Equal(t, 200, r.status, "the reset reached Redis, and b's local cache")
		assert.NotEqual(t, "0", r.header.Get("X-RateLimit-Remaining"))
	}
	assert.Equal(t, "0", get(t, a.URL+"/api/v1/test").header.Get("X-RateLimit-Remaining"), "3 requests since the reset")
}
