package core

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestKeyCacheIsBoundedAndEvictsTheLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_764_158_400, 0)
	c := keyCache{max: 3}
	h := func(b byte) (x [32]byte) { x[0] = b; return x }
	for b := byte(1); b <= 3; b++ {
		c.put(h(b), Identity{User: string('a' + b - 1)}, now.Add(time.Minute))
	}
	_, ok := c.get(h(1), now) // 1 is now the most recently used
	assert.True(t, ok)
	c.put(h(4), Identity{User: "d"}, now.Add(time.Minute))
	assert.Len(t, c.entries, 3)
	_, ok = c.get(h(2), now)
	assert.False(t, ok, "the least recently used entry was evicted")
	for _, b := range []byte{1, 3, 4} {
		_, ok := c.get(h(b), now)
		assert.True(t, ok, "entry %d", b)
	}
	id, ok := c.get(h(1), now.Add(time.Minute-1))
	assert.Equal(t, Identity{User: "a"}, id)
	assert.True(t, ok)
	_, ok = c.get(h(1), now.Add(time.Minute))
	assert.False(t, ok, "expired at its time")
	assert.Len(t, c.entries, 2, "an expired entry is dropped when met")
}

func TestUnknownKeysCannotEvictKnownOnes(t *testing.T) {
	t.Parallel()
	k := &keyResolver{known: keyCache{max: maxKnownKeys}, unknown: keyCache{max: maxUnknownKeys}}
	now := time.Unix(1_764_158_400, 0)
	k.known.put([32]byte{1}, Identity{User: "cust-1"}, now.Add(time.Minute))
	for i := range maxUnknownKeys + 10 {
		k.unknown.put([32]byte{2, byte(i), byte(i >> 8), byte(i >> 16)}, Identity{}, now.Add(time.Minute))
	}
	assert.Len(t, k.unknown.entries, maxUnknownKeys)
	_, ok := k.known.get([32]byte{1}, now)
	assert.True(t, ok)
}
