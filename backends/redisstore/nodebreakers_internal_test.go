package redisstore

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/backends/redisstore/redistest"
)

// TestKeySlotIsRedisClusters: the slots of the Redis Cluster specification's examples
// ("123456789" is CRC16 0x31C3) and its hash-tag rules.
func TestKeySlotIsRedisClusters(t *testing.T) {
	assert.Equal(t, 0x31C3%clusterSlots, keySlot("123456789"))
	assert.Equal(t, 12739, keySlot("123456789"))
	assert.Equal(t, keySlot("user1000"), keySlot("{user1000}.following"))
	assert.Equal(t, keySlot("user1000"), keySlot("{user1000}.followers"))
	assert.Equal(t, keySlot("bar"), keySlot("foo{bar}{zap}"), "the first tag")
	assert.Equal(t, keySlot("{bar"), keySlot("foo{{bar}}zap"), "from the first {")
	assert.NotEqual(t, keySlot("bar"), keySlot("foo{}{bar}"), "an empty tag hashes the whole key")
	assert.Equal(t, keySlot("ip:192.0.2.7:default"), keySlot("ratelimit:{ip:192.0.2.7:default}:60"))
	assert.Equal(t, 0, keySlot(""))
}

// TestKeySlotAgreesWithClusterKeyslot compares keySlot with a real node's CLUSTER KEYSLOT
// for random and adversarial keys.
func TestKeySlotAgreesWithClusterKeyslot(t *testing.T) {
	ctx := context.Background()
	cl := redistest.StartCluster(t)
	c := cl.Nodes()[0].Client()
	keys := []string{"", "{", "}", "{}", "{}}", "}{", "{{}}", "a{b}c{d}", "{}{x}", "{x", "x}", "{\x00}", "é{ü}", "{😀}z", strings.Repeat("k", 1<<16), "{" + strings.Repeat("t", 70000) + "}x"}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("{}ab\x00\xff\x80é")
	for range 3000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			if r.IntN(3) == 0 {
				b[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[i] = byte(r.IntN(256))
			}
		}
		keys = append(keys, string(b))
	}
	bad := 0
	for _, k := range keys {
		want, err := c.ClusterKeySlot(ctx, k).Result()
		require.NoError(t, err)
		if int(want) != keySlot(k) {
			bad++
			if bad < 10 {
				t.Errorf("keySlot(%q) = %d, CLUSTER KEYSLOT %d", k, keySlot(k), want)
			}
		}
	}
	require.Zero(t, bad)
}
