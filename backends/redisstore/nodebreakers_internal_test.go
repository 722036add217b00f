package redisstore

import (
	"testing"

	"github.com/stretchr/testify/assert"
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
