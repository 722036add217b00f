package memorystore

import (
	"testing"
	"unsafe"
)

// An entry with its inline key is one 128-byte object, which the allocator aligns to 128
// bytes: the two cache lines a decision reads (a 160-byte entry spanned three, sometimes
// four), and 159 bytes per idle key with the table's slot (190 before).
func TestAnEntryFillsTwoCacheLines(t *testing.T) {
	if n := unsafe.Sizeof(entryWithKey{}); n != 128 {
		t.Fatalf("an entry with its inline key is %d bytes, want 128", n)
	}
}

// What a decision reads of its shard lies in the shard's first cache line, and shards are
// a whole number of lines apart.
func TestAShardsHotFieldsShareACacheLine(t *testing.T) {
	var sh shard
	for name, end := range map[string]uintptr{
		"mu":         unsafe.Offsetof(sh.mu) + unsafe.Sizeof(sh.mu),
		"t":          unsafe.Offsetof(sh.t) + unsafe.Sizeof(sh.t),
		"rest":       unsafe.Offsetof(sh.rest) + unsafe.Sizeof(sh.rest),
		"nextExpiry": unsafe.Offsetof(sh.nextExpiry) + unsafe.Sizeof(sh.nextExpiry),
	} {
		if end > 64 {
			t.Errorf("shard.%s ends at byte %d, beyond the first cache line", name, end)
		}
	}
	if n := unsafe.Sizeof(sh); n%64 != 0 {
		t.Errorf("a shard is %d bytes, not a whole number of cache lines", n)
	}
}
