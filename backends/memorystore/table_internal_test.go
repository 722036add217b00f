package memorystore

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestTableMatchesAMap puts and removes keys at random against a Go map, with hashes drawn
// from a few values so that keys collide, clusters run into each other and wrap around the
// end of the slots, and removals shift entries back across the wrap: after every operation
// each key of the model is found with its entry and every removed key is not.
func TestTableMatchesAMap(t *testing.T) {
	for _, hashes := range []uint64{1, 3, 40, 1 << 20} {
		t.Run("hashes="+strconv.FormatUint(hashes, 10), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, hashes))
			// Hashes whose table bits (above the shard's 8) are near the top, so that
			// probes wrap from the last slot to the first.
			hashOf := func(k int) uint64 { return (^uint64(0) - uint64(k)%hashes) << 8 }
			var tb table
			model := map[int]*entry{}
			for step := range 3000 {
				k := rng.IntN(64)
				key := "k" + strconv.Itoa(k)
				if e, ok := model[k]; ok && rng.IntN(2) == 0 {
					tb.remove(hashOf(k), e)
					delete(model, k)
				} else if !ok {
					e := newEntry(key, 0)
					tb.put(hashOf(k), e)
					model[k] = e
				}
				if tb.n != len(model) {
					t.Fatalf("step %d: table holds %d, the model %d", step, tb.n, len(model))
				}
				for k := range 64 {
					got := tb.get(hashOf(k), "k"+strconv.Itoa(k))
					if got != model[k] {
						t.Fatalf("step %d: get(k%d) = %p, want %p", step, k, got, model[k])
					}
				}
			}
		})
	}
}

// TestNewEntryCopiesTheKey checks that an entry keeps its own copy of the key, inline or
// not, as callers reuse their key buffers (rate.Request.Key).
func TestNewEntryCopiesTheKey(t *testing.T) {
	for _, n := range []int{1, inlineKey, inlineKey + 1, 200} {
		buf := []byte(strings.Repeat("a", n))
		e := newEntry(unsafe.String(&buf[0], n), 7) // the caller's buffer, as core passes it
		for i := range buf {
			buf[i] = 'b'
		}
		if e.key != strings.Repeat("a", n) || e.movedAt != 7 {
			t.Fatalf("%d bytes: entry key %q movedAt %d", n, e.key, e.movedAt)
		}
	}
}
