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
