package core_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/adaptertest"
)

// failingKeyPrefix marks the keys the fuzz lookup fails on, with an error that quotes the
// key: the limiter must log the failure without the key.
const failingKeyPrefix = "sk_fail_"

// fuzzLookup knows premiumKey and plainKey, fails on keys starting with failingKeyPrefix
// and answers ErrKeyNotFound for every other key.
func fuzzLookup(_ context.Context, key string) (core.Identity, error) {
	switch {
	case key == premiumKey:
		return core.Identity{User: "cust-1", Tier: "premium"}, nil
	case key == plainKey:
		return core.Identity{User: "cust-2"}, nil
	case strings.HasPrefix(key, failingKeyPrefix):
		return core.Identity{}, fmt.Errorf("database unavailable while looking up %q", key)
	}
	return core.Identity{}, core.ErrKeyNotFound
}

// FuzzAPIKey decides requests carrying arbitrary X-API-Key values with a Limiter whose
// lookup knows two keys: it never panics, a known key is counted under its user id, any
// other value (unknown, or a failed lookup) leaves the request anonymous by its IP, and the
// raw key reaches neither the decision's client id nor the log.
func FuzzAPIKey(f *testing.F) {
	for _, k := range []string{premiumKey, plainKey, unknownKey, failingKeyPrefix + "0123456789", "", " ", "sk_live_premium_012345678", premiumKey + " ", "\x00", "key:cust-1", "ip:203.0.113.7", "\xff\xfe", strings.Repeat("k", 5000)} {
		f.Add(k)
	}
	clock := adaptertest.NewClock()
	var logs bytes.Buffer
	// The time of each record is dropped: it is the wall clock, and the only part of a
	// record that changes from one input to the next without depending on the key.
	dropTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	cfg := apiKeyConfig()
	cfg.Default.Limit = 1 // every request after the first is denied, and logged
	lim, err := core.New(cfg, core.WithStore(adaptertest.NewStore()), core.WithClock(clock.Now),
		core.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{ReplaceAttr: dropTime}))),
		core.WithKeyLookup(fuzzLookup))
	require.NoError(f, err)
	f.Cleanup(func() { _ = lim.Close() })

	decide := func(key string) *core.Decision {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/test", nil)
		req.RemoteAddr = "203.0.113.7:41000"
		req.Header["X-Api-Key"] = []string{key}
		d := new(core.Decision)
		lim.Decide(core.Input{Request: req}, d)
		return d
	}
	// step advances the clock by the window, past the lookup-failure log's interval and the
	// key cache's TTL, so that each input is looked up and its failure logged, and decides
	// key twice: the second is a logged denial. Every record but the key's is the same for
	// every input (the retry_after included).
	step := func(key string) (*core.Decision, string) {
		logs.Reset()
		clock.Advance(time.Minute)
		decide(key)
		return decide(key), logs.String()
	}
	// The records of keys of every kind, which no key may appear in: a fuzzed key found in
	// them is a word of the records themselves, not a leak.
	var vocabulary strings.Builder
	for _, k := range []string{premiumKey, plainKey, unknownKey, failingKeyPrefix + "reference"} {
		_, log := step(k)
		require.NotContains(f, log, k)
		vocabulary.WriteString(log)
	}
	require.Contains(f, vocabulary.String(), "rate_limit_exceeded")
	require.Contains(f, vocabulary.String(), "api_key_lookup_failed")

	f.Fuzz(func(t *testing.T, key string) {
		d, log := step(key)
		want := "ip:203.0.113.7"
		switch key {
		case premiumKey:
			want = "key:cust-1"
		case plainKey:
			want = "key:cust-2"
		}
		if got := d.ClientID(); got != want {
			t.Fatalf("key %q: client id %q, want %q", key, got, want)
		}
		if want == "ip:203.0.113.7" && d.Tier != core.TierAnonymous {
			t.Fatalf("key %q: tier %q for an anonymous client", key, d.Tier)
		}
		if key == "" || strings.Contains(vocabulary.String(), key) {
			return
		}
		quoted, _ := json.Marshal(key) // as a JSON handler would escape it
		for _, form := range []string{key, string(quoted[1 : len(quoted)-1])} {
			if strings.Contains(log, form) {
				t.Fatalf("key %q logged: %s", key, log)
			}
		}
	})
}
