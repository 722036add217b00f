package core_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
	"github.com/ratewarden/ratewarden/core/clientip"
	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/rate"
)

// statusConfig: default 3 a minute with a premium tier; compute 2 a minute and 5 an hour
// with a premium tier of 10 a minute and 50 a day; login by IP; report global.
func statusConfig() config.Config {
	compute := config.Endpoint{Name: "compute", Pattern: "/api/v1/compute", Limits: config.Limits{Windows: []config.WindowConfig{
		{Limit: 2, Window: time.Minute}, {Limit: 5, Window: time.Hour},
	}}, Tiers: map[string]config.Limits{"premium": {Windows: []config.WindowConfig{
		{Limit: 10, Window: time.Minute}, {Limit: 50, Window: 24 * time.Hour},
	}}}}
	login := endpoint("login", "/login", 2)
	login.Scope = config.ScopeIP
	report := endpoint("report", "/report", 4)
	report.Scope = config.ScopeGlobal
	return config.Config{
		Default:   config.Limits{Limit: 3, Window: time.Minute},
		Tiers:     map[string]config.Limits{"premium": {Limit: 30, Window: time.Minute}},
		Endpoints: []config.Endpoint{compute, login, report},
	}
}

func (h *harness) status(t *testing.T, client, rule, tier string) core.ClientStatus {
	t.Helper()
	st, err := h.lim.Status(context.Background(), client, rule, tier)
	require.NoError(t, err)
	return st
}

func statusJSON(t *testing.T, st core.ClientStatus) string {
	t.Helper()
	b, err := json.Marshal(st)
	require.NoError(t, err)
	return string(b)
}

func TestStatusOfAFreshClientShowsFullWindowsAndConsumesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, statusConfig())
	now := adaptertest.Base.Unix()
	for range 5 {
		st := h.status(t, "ip:203.0.113.7", "", "")
		assert.JSONEq(t, `{"client":"ip:203.0.113.7","rules":[
			{"rule":"default","windows":[{"limit":3,"window":60,"remaining":3,"reset":`+fmt.Sprint(now)+`}],"penalty":{"cooldown":0,"violations":0}},
			{"rule":"compute","windows":[{"limit":2,"window":60,"remaining":2,"reset":`+fmt.Sprint(now)+`},{"limit":5,"window":3600,"remaining":5,"reset":`+fmt.Sprint(now)+`}],"penalty":{"cooldown":0,"violations":0}},
			{"rule":"login","windows":[{"limit":2,"window":60,"remaining":2,"reset":`+fmt.Sprint(now)+`}],"penalty":{"cooldown":0,"violations":0}},
			{"rule":"report","windows":[{"limit":4,"window":60,"remaining":4,"reset":`+fmt.Sprint(now)+`}],"penalty":{"cooldown":0,"violations":0}}
		]}`, statusJSON(t, st))
	}
	d := h.decide(request{path: "/api/v1/test"})
	assert.Equal(t, int64(2), d.Remaining(), "the statuses consumed nothing")
}

func TestStatusAfterRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, statusConfig())
	h.decideN(4, request{path: "/api/v1/test"}) // 3 admitted, 1 denied
	h.decide(request{path: "/api/v1/compute"})
	h.clock.Advance(1500 * time.Millisecond)

	st := h.status(t, "ip:203.0.113.7", "default", "")
	// A token bucket of 3 a minute refills a unit every 20 s: 1.5 s later it is full
	// 58.5 s from now, which the reset rounds up as X-RateLimit-Reset does.
	reset := adaptertest.Base.Add(60 * time.Second).Unix()
	assert.JSONEq(t, `{"client":"ip:203.0.113.7","rules":[{"rule":"default","windows":[{"limit":3,"window":60,"remaining":0,"reset":`+fmt.Sprint(reset)+`}],"penalty":{"cooldown":0,"violations":0}}]}`, statusJSON(t, st))

	compute := h.status(t, "ip:203.0.113.7", "compute", "").Rules[0].Windows
	assert.Equal(t, []core.WindowStatus{
		{Limit: 2, Window: 60, Remaining: 1, Reset: adaptertest.Base.Add(30 * time.Second).Unix()},
		{Limit: 5, Window: 3600, Remaining: 4, Reset: adaptertest.Base.Add(720 * time.Second).Unix()},
	}, compute)

	// The status agrees with the next decision's headers, which it did not change.
	d := h.decide(request{path: "/api/v1/test"})
	assert.Equal(t, core.Denied, d.Outcome)
	assert.Equal(t, int64(0), d.Remaining())
	assert.Equal(t, reset, d.Reset().Unix())
}

func TestStatusOfATier(t *testing.T) {
	t.Parallel()
	h := newHarness(t, statusConfig())
	h.decideN(2, request{path: "/api/v1/compute"})
	premium := h.status(t, "ip:203.0.113.7", "compute", "premium").Rules[0].Windows
	require.Len(t, premium, 2)
	// The minute window is shared with the own limits: 2 units used, and no sooner full
	// than under the limits that used them (a policy change never grants units).
	assert.Equal(t, core.WindowStatus{Limit: 10, Window: 60, Remaining: 8, Reset: adaptertest.Base.Add(60 * time.Second).Unix()}, premium[0])
	assert.Equal(t, core.WindowStatus{Limit: 50, Window: 86400, Remaining: 50, Reset: adaptertest.Base.Unix()}, premium[1],
		"a day window no request used is full")
	assert.Equal(t, int64(30), h.status(t, "ip:203.0.113.7", "default", "premium").Rules[0].Windows[0].Limit, "the default rule's tier is [tiers]")
	for _, tier := range []string{"", "gold", core.TierAnonymous} {
		assert.Equal(t, int64(2), h.status(t, "ip:203.0.113.7", "compute", tier).Rules[0].Windows[0].Limit, "tier %q: the own limits", tier)
	}
}

func TestStatusShowsThePenalty(t *testing.T) {
	t.Parallel()
	cfg := config.Config{Default: config.Limits{Limit: 1, Window: time.Hour}, Penalty: config.PenaltyConfig{
		Enabled: true, Threshold: 2, Period: time.Minute, BaseCooldown: 90 * time.Second, Multiplier: 2, MaxCooldown: time.Hour,
	}}
	h := newHarness(t, cfg)
	h.decideN(3, request{path: "/"}) // admitted, violation, violation that starts 90 s
	h.clock.Advance(500 * time.Millisecond)
	st := h.status(t, "ip:203.0.113.7", "default", "")
	assert.Equal(t, core.PenaltyStatus{Cooldown: 90, Violations: 2}, st.Rules[0].Penalty, "89.5 s rounded up")
	assert.Equal(t, core.PenaltyStatus{Cooldown: 90, Violations: 2}, h.status(t, "ip:203.0.113.7", "default", "").Rules[0].Penalty, "a status is no violation")

	require.NoError(t, h.lim.Reset(context.Background(), "ip:203.0.113.7", "default"))
	assert.Equal(t, core.PenaltyStatus{}, h.status(t, "ip:203.0.113.7", "default", "").Rules[0].Penalty, "the reset forgot the penalty")
	assert.Equal(t, core.Allowed, h.decide(request{path: "/"}).Outcome)
}

func TestResetRestoresTheRuleAndLeavesTheOthers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, statusConfig())
	h.decideN(4, request{path: "/api/v1/test"})
	h.decideN(3, request{path: "/api/v1/compute"})
	stranger := request{path: "/api/v1/test", remote: "198.51.100.9:1"}
	h.decide(stranger)

	require.NoError(t, h.lim.Reset(context.Background(), "ip:203.0.113.7", "default"))
	assert.Equal(t, int64(3), h.status(t, "ip:203.0.113.7", "default", "").Rules[0].Windows[0].Remaining)
	d := h.decide(request{path: "/health"})
	assert.Equal(t, core.Allowed, d.Outcome)
	assert.Equal(t, int64(2), d.Remaining(), "decided as a fresh client")
	assert.Equal(t, core.Denied, h.decide(request{path: "/api/v1/compute"}).Outcome, "compute was not reset")
	assert.Equal(t, int64(1), h.decide(stranger).Remaining(), "another client was not reset")

	require.NoError(t, h.lim.Reset(context.Background(), "ip:203.0.113.7", "compute"))
	assert.Equal(t, int64(1), h.decide(request{path: "/api/v1/compute"}).Remaining())
}

func TestResetOfEveryRule(t *testing.T) {
	t.Parallel()
	h := newHarness(t, statusConfig())
	for _, path := range []string{"/api/v1/test", "/api/v1/compute", "/login", "/report"} {
		h.decide(request{path: path})
	}
	require.NoError(t, h.lim.Reset(context.Background(), "ip:203.0.113.7", ""))
	for _, rs := range h.status(t, "ip:203.0.113.7", "", "").Rules {
		if rs.Rule == "report" {
			assert.Equal(t, int64(3), rs.Windows[0].Remaining, "the global counter is every client's: an ip client does not reset it")
			continue
		}
		for _, w := range rs.Windows {
			assert.Equal(t, w.Limit, w.Remaining, "%s: reset", rs.Rule)
		}
	}
}

func TestStatusAndResetOfGlobalRules(t *testing.T) {
	t.Parallel()
	h := newHarness(t, statusConfig(), core.WithKeyLookup(func(context.Context, string) (core.Identity, error) {
		return core.Identity{}, core.ErrKeyNotFound
	}))
	h.decide(request{path: "/report"})
	h.decide(request{path: "/report", remote: "198.51.100.9:1"})
	h.decide(request{path: "/report", key: "alice"})

	for _, client := range []string{"global", "ip:192.0.2.1", "user:bob", "key:alice"} {
		st := h.status(t, client, "report", "premium")
		assert.Equal(t, int64(1), st.Rules[0].Windows[0].Remaining, "%s reads the one global counter, with the own limits", client)
		assert.Equal(t, int64(4), st.Rules[0].Windows[0].Limit)
	}
	global := h.status(t, "global", "", "")
	assert.Equal(t, "global", global.Client)
	require.Len(t, global.Rules, 1, "the client global is counted by global rules only")
	assert.Equal(t, "report", global.Rules[0].Rule)

	err := h.lim.Reset(context.Background(), "user:bob", "report")
	require.ErrorIs(t, err, core.ErrInvalidClient, "one client never resets everybody's counter")
	assert.ErrorContains(t, err, `reset it as client "global"`)
	require.NoError(t, h.lim.Reset(context.Background(), "user:bob", ""))
	assert.Equal(t, int64(1), h.status(t, "global", "report", "").Rules[0].Windows[0].Remaining)

	require.NoError(t, h.lim.Reset(context.Background(), "global", ""))
	assert.Equal(t, int64(4), h.status(t, "global", "report", "").Rules[0].Windows[0].Remaining)
	assert.Equal(t, int64(3), h.decide(request{path: "/report"}).Remaining())
}

func TestStatusOfUsersAndKeysUnderAnIPRule(t *testing.T) {
	t.Parallel()
	h := newHarness(t, statusConfig())
	h.decide(request{path: "/api/v1/test", key: "alice"})
	st := h.status(t, "key:alice", "", "")
	assert.Equal(t, "key:alice", st.Client)
	names := make([]string, len(st.Rules))
	for i, rs := range st.Rules {
		names[i] = rs.Rule
	}
	assert.Equal(t, []string{"default", "compute", "report"}, names, "login counts by address, which key:alice does not tell")
	assert.Equal(t, int64(2), st.Rules[0].Windows[0].Remaining, "the key's own counter")

	_, err := h.lim.Status(context.Background(), "key:alice", "login", "")
	require.ErrorIs(t, err, core.ErrInvalidClient)
	assert.EqualError(t, err, `ratewarden: invalid client "key:alice" for rule "login": its scope is "ip", which counts every client by its address: ask for ip:<address>`)
	require.ErrorIs(t, h.lim.Reset(context.Background(), "user:alice", "login"), core.ErrInvalidClient)
	_, err = h.lim.Status(context.Background(), "global", "default", "")
	require.ErrorIs(t, err, core.ErrInvalidClient)
}

func TestStatusNormalisesIPv6Clients(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		bits   int
		client string // the canonical client
		asked  []string
		bad    []string
	}{
		{"the default /64", 0, "ip:2001:db8:1:2::/64",
			[]string{"ip:2001:db8:1:2::99", "ip:2001:db8:1:2::/64", "ip:2001:db8:1:2:ffff::/80", "ip:2001:db8:1:2::1/128", "ip:2001:DB8:1:2:0:0:0:5", "ip:2001:db8:1:2::1%eth0"},
			[]string{"ip:2001:db8:1::/48", "ip:2001:db8:1:2::/63"}},
		{"a /56", 56, "ip:2001:db8:1::/56", []string{"ip:2001:db8:1:ff::1", "ip:2001:db8:1::/56", "ip:2001:db8:1:2::/64"}, []string{"ip:2001:db8::/48"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, config.Config{Default: config.Limits{Limit: 3, Window: time.Minute}, ClientIP: clientip.Config{IPv6Prefix: tt.bits}})
			h.decide(request{path: "/", remote: "[2001:db8:1:2::1]:5000"})
			for _, client := range tt.asked {
				st := h.status(t, client, "default", "")
				assert.Equal(t, tt.client, st.Client, client)
				assert.Equal(t, int64(2), st.Rules[0].Windows[0].Remaining, client)
			}
			for _, client := range tt.bad {
				_, err := h.lim.Status(context.Background(), client, "", "")
				assert.ErrorIs(t, err, core.ErrInvalidClient, client)
			}
			require.NoError(t, h.lim.Reset(context.Background(), tt.asked[0], "default"))
			assert.Equal(t, int64(2), h.decide(request{path: "/", remote: "[2001:db8:1:2::1]:5000"}).Remaining(), "the reset found the prefix's counter")
		})
	}
}

func TestStatusOfIPv4Clients(t *testing.T) {
	t.Parallel()
	h := newHarness(t, statusConfig())
	h.decide(request{path: "/"})
	for _, client := range []string{"ip:203.0.113.7", "ip:::ffff:203.0.113.7", "ip:203.0.113.7/32"} {
		st := h.status(t, client, "default", "")
		assert.Equal(t, "ip:203.0.113.7", st.Client, client)
		assert.Equal(t, int64(2), st.Rules[0].Windows[0].Remaining, client)
	}
}

func TestStatusAndResetErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, statusConfig())
	tests := []struct {
		client, rule string
		is           error
		msg          string
	}{
		{"", "", core.ErrInvalidClient, `ratewarden: invalid client "": want ip:<address>, user:<id>, key:<id> or global`},
		{"203.0.113.7", "", core.ErrInvalidClient, `ratewarden: invalid client "203.0.113.7": want ip:<address>, user:<id>, key:<id> or global`},
		{"user:", "", core.ErrInvalidClient, ""},
		{"team:a", "", core.ErrInvalidClient, ""},
		{"global:*", "", core.ErrInvalidClient, ""},
		{"ip:203.0.113", "", core.ErrInvalidClient, `ratewarden: invalid client "ip:203.0.113": want an IP address (ip:203.0.113.7) or an IPv6 prefix of at least 64 bits (ip:2001:db8:1:2::/64)`},
		{"ip:203.0.113.0/24", "", core.ErrInvalidClient, ""},
		{"ip:::ffff:203.0.113.7/128", "", core.ErrInvalidClient, ""},
		{"ip:203.0.113.7", "nope", core.ErrUnknownRule, `ratewarden: unknown rule "nope": the rules are default, compute, login, report`},
		{"ip:203.0.113.7", "Compute", core.ErrUnknownRule, ""},
	}
	for _, tt := range tests {
		_, err := h.lim.Status(context.Background(), tt.client, tt.rule, "")
		require.ErrorIs(t, err, tt.is, "status %q %q", tt.client, tt.rule)
		if tt.msg != "" {
			assert.EqualError(t, err, tt.msg)
		}
		assert.ErrorIs(t, h.lim.Reset(context.Background(), tt.client, tt.rule), tt.is, "reset %q %q", tt.client, tt.rule)
	}
	assert.Zero(t, h.store.Len(), "no error reached the store")
}

func TestStatusAndResetWhenTheBackendFails(t *testing.T) {
	t.Parallel()
	for _, cause := range []error{errBackendDown, rate.ErrUnavailable} {
		h := newHarness(t, statusConfig())
		h.store.Fail(cause)
		_, err := h.lim.Status(context.Background(), "ip:203.0.113.7", "", "")
		assert.ErrorIs(t, err, rate.ErrUnavailable)
		assert.ErrorIs(t, err, cause)
		err = h.lim.Reset(context.Background(), "ip:203.0.113.7", "default")
		assert.ErrorIs(t, err, rate.ErrUnavailable)
		assert.ErrorIs(t, err, cause)
	}
}

// resetRecorder records the keys and periods of Reset calls.
type resetRecorder struct {
	*adaptertest.Store
	mu     sync.Mutex
	resets map[string][]time.Duration
}

func (r *resetRecorder) Reset(ctx context.Context, key string, periods []time.Duration) error {
	r.mu.Lock()
	r.resets[key] = slices.Clone(periods)
	r.mu.Unlock()
	return r.Store.Reset(ctx, key, periods)
}

// TestResetForgetsEveryTiersWindows: the store is asked to forget the union of the window
// lengths of a rule's policies, under the keys decisions use.
func TestResetForgetsEveryTiersWindows(t *testing.T) {
	t.Parallel()
	store := &resetRecorder{Store: adaptertest.NewStore(), resets: map[string][]time.Duration{}}
	h := newHarness(t, statusConfig(), core.WithStore(store), core.WithName("api"))
	require.NoError(t, h.lim.Reset(context.Background(), "user:alice", ""))
	require.NoError(t, h.lim.Reset(context.Background(), "global", "report"))
	require.NoError(t, h.lim.Reset(context.Background(), "ip:2001:db8:1:2::7", "login"))
	assert.Equal(t, map[string][]time.Duration{
		"user:alice:api/default":         {time.Minute},
		"user:alice:api/compute":         {time.Minute, time.Hour, 24 * time.Hour},
		"global:*:api/report":            {time.Minute},
		"ip:2001:db8:1:2::/64:api/login": {time.Minute},
	}, store.resets)

	// The key is the decisions' own: a decision after the reset starts afresh.
	d := h.decide(request{path: "/login", remote: "[2001:db8:1:2::1]:1"})
	assert.Equal(t, int64(1), d.Remaining())
	assert.Equal(t, "api.login", d.Rule())
	require.NoError(t, h.lim.Reset(context.Background(), d.ClientID(), d.Rule()), "a rule by the name decisions give it")
	assert.Zero(t, store.Len())
	assert.Equal(t, "login", h.status(t, d.ClientID(), d.Rule(), "").Rules[0].Rule, "rules are shown as configured")
}

func TestStatusAndResetFollowReloadedCounters(t *testing.T) {
	t.Parallel()
	h := newHarness(t, statusConfig())
	h.decide(request{path: "/api/v1/compute"})
	cfg := statusConfig()
	cfg.Endpoints[0].Name = "calc" // renamed: keeps its counter
	require.NoError(t, h.lim.Reload(cfg))
	st := h.status(t, "ip:203.0.113.7", "calc", "")
	assert.Equal(t, "calc", st.Rules[0].Rule)
	assert.Equal(t, int64(1), st.Rules[0].Windows[0].Remaining, "the renamed rule's counter")
	_, err := h.lim.Status(context.Background(), "ip:203.0.113.7", "compute", "")
	assert.ErrorIs(t, err, core.ErrUnknownRule)
	require.NoError(t, h.lim.Reset(context.Background(), "ip:203.0.113.7", "calc"))
	assert.Equal(t, int64(1), h.decide(request{path: "/api/v1/compute"}).Remaining())
}

// An "ip:" client is anonymous: with [tiers.anonymous] configured, its status shows that
// tier's limits, as its requests get them (a new-user review saw 100 where requests got 60).
func TestStatusOfAnAddressIsAnonymous(t *testing.T) {
	t.Parallel()
	cfg := config.Config{Tiers: map[string]config.Limits{core.TierAnonymous: {Limit: 60, Window: time.Minute}}}
	h := newHarness(t, cfg)
	d := h.decide(request{path: "/api/v1/test"})
	require.EqualValues(t, 60, d.Limit())
	w := h.status(t, "ip:203.0.113.7", "default", "").Rules[0].Windows[0]
	assert.EqualValues(t, 60, w.Limit)
	assert.EqualValues(t, 59, w.Remaining)
	assert.EqualValues(t, 100, h.status(t, "user:alice", "default", "").Rules[0].Windows[0].Limit, "a user of no named tier: the rule's own limits")
}

// TestStatusAndResetOfADigestedClient: a client whose id is counted as its digest (over
// 128 bytes here) is addressed as logs write it, "key:sha256:<hex>": Status reads its
// counters and Reset forgets them, rather than digesting the digest into another client.
func TestStatusAndResetOfADigestedClient(t *testing.T) {
	t.Parallel()
	h := newHarness(t, statusConfig())
	d := h.decide(request{path: "/api/v1/test", key: strings.Repeat("a", 200)})
	client := d.ClientID()
	require.Regexp(t, `^key:sha256:[0-9a-f]{64}$`, client)
	st := h.status(t, client, "default", "")
	assert.Equal(t, client, st.Client)
	assert.Equal(t, int64(2), st.Rules[0].Windows[0].Remaining, "the request counted")

	require.NoError(t, h.lim.Reset(context.Background(), client, "default"))
	assert.Equal(t, int64(3), h.status(t, client, "default", "").Rules[0].Windows[0].Remaining)
	assert.Equal(t, int64(3), h.decide(request{path: "/api/v1/test", key: strings.Repeat("a", 200)}).Remaining()+1, "the client's own counter was reset")
}

// TestStatusAndResetOfGlobalWithoutAGlobalRule: "global" names the counter of rules with
// scope "global"; with none, Status and Reset say so rather than answer for no rule.
func TestStatusAndResetOfGlobalWithoutAGlobalRule(t *testing.T) {
	t.Parallel()
	h := newHarness(t, config.Config{Default: config.Limits{Limit: 3, Window: time.Minute}})
	_, err := h.lim.Status(context.Background(), "global", "", "")
	require.ErrorIs(t, err, core.ErrInvalidClient)
	assert.EqualError(t, err, `ratewarden: invalid client "global": no rule counts it (no rule has scope = "global")`)
	require.ErrorIs(t, h.lim.Reset(context.Background(), "global", ""), core.ErrInvalidClient)
}
