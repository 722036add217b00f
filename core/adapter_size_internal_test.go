package core

import (
	"testing"
	"unsafe"
)

// TestGateAllocationSize: the one allocation of Gate (decision, request copy, key and
// header values) fits the runtime's 704-byte size class, which holds 696 bytes of an
// object with pointers (objects over 512 bytes carry an 8-byte type header). Every byte
// of it is paid on every request, in the middleware benchmark at about 1 ns a byte (GC
// work, and the page faults of memory the scavenger returned): it took 1,280 bytes before
// its fields were trimmed, 1,016 before the Decision kept only what it reads (the store's
// answer in a pooled storeCall). A field that pushes it past 696 costs the next size
// class (768), 9 % more.
func TestGateAllocationSize(t *testing.T) {
	if size := unsafe.Sizeof(decisionContext{}); size > 704-8 {
		t.Errorf("decisionContext is %d bytes, over the 704-byte size class (696 bytes and the header)", size)
	}
}
