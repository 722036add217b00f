package redisstore

import (
	"encoding/binary"

	"github.com/ratewarden/ratewarden/core/rate"
)

// stateTags are the tag bytes of the string states (lua/prelude.lua).
var stateTags = map[rate.Algorithm]byte{
	rate.TokenBucket: 't', rate.GCRA: 'G', rate.FixedWindow: 'f', rate.SlidingWindowCounter: 'c',
}

// packState returns a string state as the scripts write it (lua/prelude.lua): alg's tag,
// then nums, each an unsigned 64-bit little-endian integer.
func packState(alg rate.Algorithm, nums ...uint64) string {
	b := []byte{stateTags[alg]}
	for _, n := range nums {
		b = binary.LittleEndian.AppendUint64(b, n)
	}
	return string(b)
}

// unpackState returns the tag and the numbers of a string state; ok is false when s is
// not a tag followed by whole numbers.
func unpackState(s string) (tag byte, nums []uint64, ok bool) {
	if len(s) == 0 || (len(s)-1)%8 != 0 {
		return 0, nil, false
	}
	for i := 1; i < len(s); i += 8 {
		nums = append(nums, binary.LittleEndian.Uint64([]byte(s[i:i+8])))
	}
	return s[0], nums, true
}
